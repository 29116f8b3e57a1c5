"""Credit limits (授信额度): set / adjust / freeze / unfreeze with a reason; drawdowns check
availability under a row lock on the limit, so two loans cannot both take the last yuan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_event
from credo.lending.errors import InvalidLoan, InvalidState
from credo.lending.exposure.services import concentration_enforce
from credo.lending.ledger import fen
from credo.lending.models import CreditLimit, Loan
from credo.lending.states import LOAN_LIMIT_STATES

OPEN = LOAN_LIMIT_STATES


@dataclass(frozen=True)
class LimitStatus:
    amount: int
    used: int
    frozen: bool
    valid_until: dt.date | None

    @property
    def available(self) -> int:
        if self.frozen or (self.valid_until and self.valid_until < clock.today()):
            return 0
        return max(0, self.amount - self.used)


def used_fen(customer: Any) -> int:
    """Open principal: pending loans count in full, disbursed ones by what is outstanding."""
    loans = Loan.objects.filter(customer=customer, status__in=OPEN)
    pending = loans.filter(status=Loan.Status.PENDING).aggregate(s=Sum("principal"))["s"]
    active = loans.exclude(status=Loan.Status.PENDING).aggregate(s=Sum("outstanding_principal"))[
        "s"
    ]
    return fen(pending) + fen(active)


def limit_status(customer: Any) -> LimitStatus | None:
    limit = CreditLimit.objects.filter(customer=customer).first()
    if limit is None:
        return None
    return LimitStatus(limit.amount.fen, used_fen(customer), limit.frozen, limit.valid_until)


def check_drawdown(customer: Any, principal: int) -> None:
    """Called inside loan creation's transaction; locks the limit row."""
    limit = CreditLimit.objects.select_for_update().filter(customer=customer).first()
    if limit is None:
        return  # no limit recorded: origination decides (migration loans, one-off loans)
    status = LimitStatus(limit.amount.fen, used_fen(customer), limit.frozen, limit.valid_until)
    if limit.frozen:
        raise InvalidState(_("客户授信额度已冻结，不能新增贷款。"))
    if principal > status.available:
        raise InvalidLoan(
            _("超出可用授信额度：可用 %(a)s 元。")
            % {"a": Money.from_fen(status.available).format(symbol=False)}
        )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidLoan(_("请填写调整原因。"))
    return reason[:200]


@transaction.atomic
def limit_set(
    *, customer: Any, amount: Money, actor: Any, reason: str, valid_until: dt.date | None = None
) -> CreditLimit:
    reason = _require_reason(reason)
    if not isinstance(amount, Money) or amount.fen < 0:
        raise InvalidLoan(_("授信额度不能为负数。"))
    limit = CreditLimit.objects.select_for_update().filter(customer=customer).first()
    before = limit.amount.fen if limit else None
    # 集中度 (issue 22): a limit is a commitment; one over a concentration limit is refused
    concentration_enforce(customer=customer, limit_fen=amount.fen, point=_("设置该授信额度"))
    if limit is None:
        limit = CreditLimit(customer=customer, amount=amount, updated_by=actor)  # type: ignore[misc]  # MoneyField stores Money
    else:
        limit.amount, limit.version = amount, limit.version + 1
    limit.valid_until, limit.reason, limit.updated_by = valid_until, reason, actor
    limit.save()
    audit_record(
        action="credit_limit.set",
        actor=actor,
        obj=limit,
        changes={"amount": [before, amount.fen]},
        metadata={"reason": reason},
    )
    record_event(
        customer=customer,
        kind="decision",
        actor=actor,
        obj=limit,
        source="lending",
        title=_("授信额度调整为 %(a)s 元：%(r)s") % {"a": amount.format(symbol=False), "r": reason},
    )
    return limit


@transaction.atomic
def limit_freeze(*, customer: Any, frozen: bool, actor: Any, reason: str) -> CreditLimit:
    reason = _require_reason(reason)
    limit = CreditLimit.objects.select_for_update().filter(customer=customer).first()
    if limit is None:
        raise InvalidState(_("该客户尚未设置授信额度。"))
    if limit.frozen == frozen:
        return limit
    limit.frozen, limit.reason, limit.updated_by = frozen, reason, actor
    limit.version += 1
    limit.save()
    audit_record(
        action="credit_limit.freeze" if frozen else "credit_limit.unfreeze",
        actor=actor,
        obj=limit,
        changes={"frozen": [not frozen, frozen]},
        metadata={"reason": reason},
    )
    record_event(
        customer=customer,
        kind="decision",
        actor=actor,
        obj=limit,
        source="lending",
        title=(_("冻结授信额度：%(r)s") if frozen else _("解冻授信额度：%(r)s")) % {"r": reason},
    )
    return limit
