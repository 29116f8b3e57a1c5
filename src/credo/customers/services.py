"""Every write to customers: keyword-only, one transaction, audited, on the timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.crypto import blind_index
from credo.core.customfields import engine as cf
from credo.customers.errors import (
    CustomerError,
    DuplicateCustomer,
    InvalidCustomer,
    StaleCustomer,
)
from credo.customers.events import record_event
from credo.customers.models import Authorization, Contact, Customer, DataKind, Relation
from credo.customers.profile import SENSITIVE_FIELDS, clean_profile

AUDITED_FIELDS = [
    "kind",
    "name",
    "uscc",
    "registered_capital",
    "industry",
    "legal_representative",
    "founded_on",
    "employer",
    "region_code",
    "address",
    "status",
    "risk_grade",
    "owner_id",
    "team_id",
    "branch_id",
]


def _field_label(name: str) -> str:
    return str(getattr(Customer._meta.get_field(name), "verbose_name", name))


def _snapshot(customer: Customer) -> dict[str, Any]:
    return {name: getattr(customer, name) for name in AUDITED_FIELDS}


def find_duplicate(
    *, kind: str, uscc: str = "", id_number: str = "", exclude_pk: int | None = None
) -> tuple[Customer | None, str]:
    qs = Customer.objects.all()
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if kind == Customer.Kind.ENTERPRISE and uscc:
        return qs.filter(uscc=uscc).first(), "uscc"
    if kind == Customer.Kind.INDIVIDUAL and id_number:
        return qs.filter(id_number_bidx=blind_index(id_number, kind="id_number")).first(), (
            "id_number"
        )
    return None, ""


def _duplicate_error(existing: Customer, field: str) -> DuplicateCustomer:
    label = _("统一社会信用代码") if field == "uscc" else _("身份证号")
    return DuplicateCustomer(
        _("该%(label)s已存在客户档案：%(name)s（编号 %(pk)s），请勿重复建档。")
        % {"label": label, "name": existing.name, "pk": existing.pk},
        existing=existing,
        field=field,
    )


def _owner_units(owner: Any) -> dict[str, Any]:
    return {"team": owner.team, "branch": owner.branch}


@transaction.atomic
def customer_create(
    *,
    actor: Any,
    data: Mapping[str, Any],
    owner: Any = None,
    custom: Mapping[str, Any] | None = None,
    source: str = "manual",
) -> Customer:
    """Create a profile from raw input. Duplicate identifier → :class:`DuplicateCustomer`."""
    values, errors = clean_profile(data)
    if errors:
        raise InvalidCustomer(_("客户资料有误，请检查标出的字段。"), field_errors=errors)
    existing, field = find_duplicate(
        kind=values["kind"], uscc=values.get("uscc", ""), id_number=values.get("id_number", "")
    )
    if existing is not None:
        raise _duplicate_error(existing, field)
    owner = owner or actor
    customer = Customer(**values, owner=owner, **_owner_units(owner), custom=dict(custom or {}))
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        # Lost a race with a concurrent create of the same identifier.
        existing, field = find_duplicate(
            kind=values["kind"],
            uscc=values.get("uscc", ""),
            id_number=values.get("id_number", ""),
        )
        if existing is None:
            raise
        raise _duplicate_error(existing, field) from None
    audit_record(
        action="customer.create",
        actor=actor,
        obj=customer,
        changes={k: [None, v] for k, v in _snapshot(customer).items() if v not in (None, "")},
        metadata={
            "source": source,
            "sensitive_set": sorted(f for f in SENSITIVE_FIELDS if values.get(f)),
        },
    )
    record_event(
        customer=customer,
        kind="created",
        title=_("建立客户档案（%(source)s）") % {"source": source},
        actor=actor,
        obj=customer,
        source="customers",
    )
    return customer


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    actor: Any,
    data: Mapping[str, Any],
    custom: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
) -> Customer:
    """Partial update. ``expected_version`` guards against overwriting a concurrent edit."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleCustomer(_("该客户资料已被他人修改，请刷新后重试。"))
    values, errors = clean_profile(data, kind=locked.kind)
    if errors:
        raise InvalidCustomer(_("客户资料有误，请检查标出的字段。"), field_errors=errors)
    existing, field = find_duplicate(
        kind=locked.kind,
        uscc=values.get("uscc", ""),
        id_number=values.get("id_number", ""),
        exclude_pk=locked.pk,
    )
    if existing is not None:
        raise _duplicate_error(existing, field)
    before = _snapshot(locked)
    before_custom = dict(locked.custom)
    sensitive_changed = sorted(
        f for f in SENSITIVE_FIELDS if f in values and values[f] != getattr(locked, f)
    )
    for key, value in values.items():
        setattr(locked, key, value)
    if custom is not None:
        locked.custom = dict(custom)
    after = _snapshot(locked)
    changes = {k: [before[k], after[k]] for k in AUDITED_FIELDS if before[k] != after[k]}
    custom_changes = {
        k: [before_custom.get(k), locked.custom.get(k)]
        for k in set(before_custom) | set(locked.custom)
        if before_custom.get(k) != locked.custom.get(k)
    }
    if not changes and not custom_changes and not sensitive_changed:
        return locked
    locked.version += 1
    locked.save()
    audit_record(
        action="customer.update",
        actor=actor,
        obj=locked,
        changes={**changes, **{f"custom.{k}": v for k, v in custom_changes.items()}},
        metadata={"sensitive_changed": sensitive_changed, "version": locked.version},
    )
    labels = [_field_label(k) for k in changes if k in values]
    labels += [_field_label(f) for f in sensitive_changed]
    labels += [f"{k}" for k in custom_changes]
    record_event(
        customer=locked,
        kind="profile_changed",
        title=_("修改资料：%(fields)s") % {"fields": "、".join(labels)[:150]},
        actor=actor,
        detail={
            "fields": list(changes) + sensitive_changed + [f"custom.{k}" for k in custom_changes]
        },
        obj=locked,
        source="customers",
    )
    return locked


def customer_update_custom(
    *, customer: Customer, actor: Any, cleaned: Mapping[str, Any], expected_version: int | None
) -> Customer:
    merged = cf.merge_cleaned("customer", actor, cleaned, customer.custom)
    return customer_update(
        customer=customer, actor=actor, data={}, custom=merged, expected_version=expected_version
    )


@transaction.atomic
def customer_reassign(*, customer: Customer, new_owner: Any, actor: Any) -> Customer:
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.owner_id == new_owner.pk:
        return locked
    old = locked.owner
    locked.owner = new_owner
    locked.team, locked.branch = new_owner.team, new_owner.branch
    locked.version += 1
    locked.save()
    audit_record(
        action="customer.reassign",
        actor=actor,
        obj=locked,
        changes={"owner": [str(old), str(new_owner)]},
    )
    record_event(
        customer=locked,
        kind="other",
        actor=actor,
        obj=locked,
        source="customers",
        title=_("客户经理变更：%(old)s → %(new)s") % {"old": old, "new": new_owner},
    )
    return locked


@transaction.atomic
def contact_add(
    *,
    customer: Customer,
    actor: Any,
    name: str,
    title: str = "",
    phone: str = "",
    is_primary: bool = False,
) -> Contact:
    from credo.core.validators import normalize_phone, validate_phone

    name = (name or "").strip()
    if not name:
        raise InvalidCustomer(_("请填写联系人姓名。"), field_errors={"name": _("必填")})
    phone = normalize_phone(phone)
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as exc:
            raise InvalidCustomer(
                str(exc.messages[0]), field_errors={"phone": exc.messages[0]}
            ) from None
    if is_primary:
        customer.contacts.update(is_primary=False)
    contact = Contact.objects.create(
        customer=customer,
        name=name[:60],
        title=(title or "")[:60],
        phone=phone,
        is_primary=is_primary,
    )
    audit_record(
        action="customer.contact_add",
        actor=actor,
        obj=customer,
        metadata={"contact_id": contact.pk, "name": contact.name},
    )
    record_event(
        customer=customer,
        kind="contact",
        actor=actor,
        obj=contact,
        source="customers",
        title=_("新增联系人：%(name)s") % {"name": contact.name},
    )
    return contact


SPOUSE_KINDS = {Relation.Kind.SPOUSE}
PERSON_ONLY_FROM = {Relation.Kind.SPOUSE, Relation.Kind.LEGAL_REPRESENTATIVE}


@transaction.atomic
def relation_add(
    *,
    from_customer: Customer,
    to_customer: Customer,
    kind: str,
    actor: Any,
    share_pct: Any = None,
    note: str = "",
) -> Relation:
    if kind not in Relation.Kind.values:
        raise InvalidCustomer(_("未知的关联关系类型。"), field_errors={"kind": _("无效")})
    if from_customer.pk == to_customer.pk:
        raise InvalidCustomer(_("不能与自己建立关联关系。"))
    if kind in PERSON_ONLY_FROM and from_customer.kind != Customer.Kind.INDIVIDUAL:
        raise InvalidCustomer(_("法定代表人/配偶必须是个人客户。"), field_errors={"kind": ""})
    if kind == Relation.Kind.SPOUSE and to_customer.kind != Customer.Kind.INDIVIDUAL:
        raise InvalidCustomer(_("配偶关系只能存在于两个个人客户之间。"))
    pct: Decimal | None = None
    if kind == Relation.Kind.SHAREHOLDER:
        try:
            pct = Decimal(str(share_pct)).quantize(Decimal("0.001"))
        except (InvalidOperation, ValueError, TypeError):
            raise InvalidCustomer(
                _("股东关系需要填写持股比例（0–100）。"), field_errors={"share_pct": _("无效")}
            ) from None
        if not Decimal(0) < pct <= Decimal(100):
            raise InvalidCustomer(
                _("持股比例应大于 0 且不超过 100。"), field_errors={"share_pct": _("无效")}
            )
        held = sum(
            (r.share_pct or Decimal(0))
            for r in Relation.objects.select_for_update()
            .filter(to_customer=to_customer, kind=Relation.Kind.SHAREHOLDER)
            .exclude(from_customer=from_customer)
        )
        if held + pct > 100:
            raise InvalidCustomer(
                _("股东持股比例合计将超过 100%%（已登记 %(held)s%%）。") % {"held": held},
                field_errors={"share_pct": _("超出")},
            )
    relation, created = Relation.objects.get_or_create(
        from_customer=from_customer,
        to_customer=to_customer,
        kind=kind,
        defaults={"share_pct": pct, "note": (note or "")[:200], "created_by": actor},
    )
    if not created:
        raise CustomerError(_("该关联关系已存在。"))
    audit_record(
        action="customer.relation_add",
        actor=actor,
        obj=relation,
        changes={"kind": [None, kind], "share_pct": [None, pct]},
    )
    title = _("%(a)s 为 %(b)s 的%(kind)s") % {
        "a": from_customer.name,
        "b": to_customer.name,
        "kind": relation.get_kind_display(),
    }
    for side in (from_customer, to_customer):
        record_event(
            customer=side,
            kind="relation",
            title=title,
            actor=actor,
            obj=relation,
            source="customers",
        )
    return relation


@transaction.atomic
def relation_remove(*, relation: Relation, actor: Any) -> None:
    title = _("解除关联：%(rel)s") % {"rel": relation}
    audit_record(action="customer.relation_remove", actor=actor, obj=relation)
    for side in (relation.from_customer, relation.to_customer):
        record_event(customer=side, kind="relation", title=title, actor=actor, source="customers")
    relation.delete()


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
