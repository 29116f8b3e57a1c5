"""Risk flags and data-use authorizations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.customers.errors import (
    InvalidCustomer,
)
from credo.customers.events import record_event
from credo.customers.models import Authorization, Customer, DataKind

RISK_FLAGS = {
    "judgment_debtor": "被执行人",
    "litigation": "涉诉",
    "overdue": "逾期",
    "negative_news": "负面舆情",
    "blacklist": "黑名单",
    # honoured by notifications and collections: no marketing/collection calls or messages
    "do_not_contact": "勿联系",
}


@transaction.atomic
def risk_flag_set(
    *, customer: Customer, flag: str, on: bool, actor: Any, reason: str = ""
) -> Customer:
    if flag not in RISK_FLAGS:
        raise InvalidCustomer(_("未知的风险标记。"))
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    flags = set(locked.risk_flags)
    if (flag in flags) == on:
        return locked
    flags.add(flag) if on else flags.discard(flag)
    before = sorted(locked.risk_flags)
    locked.risk_flags = sorted(flags)
    locked.save(update_fields=["risk_flags", "updated_at"])
    audit_record(
        action="customer.risk_flag",
        actor=actor,
        obj=locked,
        changes={"risk_flags": [before, locked.risk_flags]},
        metadata={"reason": reason},
    )
    verb = _("标记") if on else _("解除")
    record_event(
        customer=locked,
        kind="alert",
        actor=actor,
        obj=locked,
        source="customers",
        title=f"{verb}{_('风险')}：{RISK_FLAGS[flag]}",
        detail={"reason": reason},
    )
    return locked


@transaction.atomic
def authorization_record(
    *,
    customer: Customer,
    actor: Any,
    scope: str,
    granted_by: str,
    valid_from: dt.date,
    valid_until: dt.date,
    document: Any = None,
) -> Authorization:
    if scope not in DataKind.values:
        raise InvalidCustomer(_("无效的授权范围。"))
    if not (granted_by or "").strip():
        raise InvalidCustomer(_("请填写授权人。"), field_errors={"granted_by": _("必填")})
    if valid_until < valid_from:
        raise InvalidCustomer(
            _("失效日期不能早于生效日期。"), field_errors={"valid_until": _("无效")}
        )
    if valid_until < clock.today():
        raise InvalidCustomer(_("授权已过期，不能登记。"), field_errors={"valid_until": _("过期")})
    auth = Authorization(
        customer=customer,
        scope=scope,
        granted_by=granted_by.strip()[:60],
        valid_from=valid_from,
        valid_until=valid_until,
        recorded_by=actor,
    )
    if document is not None:
        auth.document = document
    auth.save()
    audit_record(
        action="customer.authorization_record",
        actor=actor,
        obj=auth,
        metadata={"scope": scope, "valid_until": valid_until.isoformat()},
    )
    record_event(
        customer=customer,
        kind="authorization",
        actor=actor,
        obj=auth,
        source="customers",
        title=_("登记%(scope)s查询授权（有效期至 %(until)s）")
        % {"scope": auth.get_scope_display(), "until": valid_until},
    )
    return auth
