"""Charging and reversing an ad hoc fee (rules: :mod:`credo.lending.charges`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_event
from credo.lending.errors import IdempotencyConflict, InvalidLoan, InvalidState, NotPermitted
from credo.lending.models import Loan, LoanCharge
from credo.lending.replay.service import check_value_date, replay_loan
from credo.lending.schedule import fen_to_str
from credo.lending.states import LOAN_OPEN_STATES

PERMISSION = "lending.charge_fee"


def _check_actor(actor: Any) -> None:
    if actor is None or not actor.has_perm(PERMISSION):
        raise NotPermitted(_("没有收取贷款费用的权限。"))


@transaction.atomic
def charge_create(
    *,
    loan: Loan,
    kind: str,
    amount: Money | int,
    charged_on: dt.date,
    actor: Any,
    memo: str = "",
    idempotency_key: str | None = None,
) -> LoanCharge:
    """收费: record the charge on its value date and replay the loan from it."""
    _check_actor(actor)
    fen = amount.fen if isinstance(amount, Money) else int(amount)
    if kind not in LoanCharge.Kind.values:
        raise InvalidLoan(_("费用类型不正确。"))
    if fen <= 0:
        raise InvalidLoan(_("收费金额必须大于 0。"))
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if idempotency_key:
        existing = LoanCharge.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if (existing.loan_id, existing.amount.fen, existing.kind, existing.charged_on) != (
                locked.pk,
                fen,
                kind,
                charged_on,
            ):
                raise IdempotencyConflict(_("该幂等键已用于另一笔收费。"))
            return existing
    if locked.status not in LOAN_OPEN_STATES:
        raise InvalidState(
            _("贷款 %(n)s 状态为“%(s)s”，不能收费。")
            % {"n": locked.number, "s": locked.get_status_display()}
        )
    if locked.start_date is None or charged_on < locked.start_date:
        raise InvalidLoan(_("收费起息日不能早于放款日。"))
    if charged_on > clock.today():
        raise InvalidLoan(_("收费起息日不能晚于今天。"))
    check_value_date(locked, charged_on)
    charge = LoanCharge.objects.create(
        loan=locked,
        kind=kind,
        amount=fen,
        charged_on=charged_on,
        memo=(memo or "").strip()[:200],
        idempotency_key=idempotency_key or None,
        created_by=actor,
    )
    replay_loan(
        locked,
        actor=actor,
        reason=_("收费：%(k)s %(a)s 元") % {"k": charge.get_kind_display(), "a": fen_to_str(fen)},
        from_date=charged_on,
    )
    charge.refresh_from_db()
    # the 年化利率 with this charge (in the period the replay put it) within the product's cap;
    # over it, the whole charge is refused (the transaction rolls back)
    from credo.lending.pricing.caps import check_loan_charges_cap

    check_loan_charges_cap(locked)
    info = {
        "charge": charge.pk,
        "kind": kind,
        "amount": fen,
        "charged_on": charged_on.isoformat(),
        "due_period": charge.due_period,
    }
    audit_record(action="loan.charge", actor=actor, obj=locked, metadata=info)
    record_event(
        customer=locked.customer,
        kind="other",
        actor=actor,
        obj=locked,
        source="lending",
        title=_("贷款 %(n)s 收费：%(k)s %(a)s 元（起息日 %(d)s）")
        % {
            "n": locked.number,
            "k": charge.get_kind_display(),
            "a": fen_to_str(fen),
            "d": charged_on.isoformat(),
        },
        detail=info,
    )
    return charge


@transaction.atomic
def charge_reverse(*, charge: LoanCharge, actor: Any, reason: str) -> LoanCharge:
    """冲销: the charge drops out of the events; the loan is replayed from its value date (money
    already paid on it is reallocated or held as 溢缴款)."""
    _check_actor(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidLoan(_("请填写冲销原因。"))
    locked = Loan.objects.select_for_update().get(pk=charge.loan_id)
    row = LoanCharge.objects.select_for_update().get(pk=charge.pk)
    if row.reversed_at is not None:
        raise InvalidState(_("该笔收费已冲销。"))
    if locked.status == Loan.Status.WRITTEN_OFF:
        raise InvalidState(_("贷款已核销，不能冲销其收费。"))
    check_value_date(locked, row.charged_on)
    row.reversed_at = timezone.now()
    row.reversed_by = actor
    row.reverse_reason = reason[:200]
    row.save(update_fields=["reversed_at", "reversed_by", "reverse_reason"])
    replay_loan(
        locked,
        actor=actor,
        reason=_("冲销收费：%(r)s") % {"r": reason},
        from_date=row.charged_on,
    )
    row.refresh_from_db()
    audit_record(
        action="loan.charge_reverse",
        actor=actor,
        obj=locked,
        metadata={"charge": row.pk, "amount": row.amount.fen, "reason": reason},
    )
    return row


def charges_carried(loan: Loan, periods: list[int], to_period: int) -> None:
    """A prepayment or repricing replaced ``periods``: their charges now sit on ``to_period``
    (the rows' fee was carried there), so the next replay tells them from the schedule fee."""
    if periods:
        LoanCharge.objects.filter(loan=loan, due_period__in=periods).update(due_period=to_period)
