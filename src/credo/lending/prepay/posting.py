"""Posting a prepayment (提前还款): what is due first, the rest to principal; reschedule or close."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_event
from credo.lending import ledger, services
from credo.lending.allocation import loan_status_after
from credo.lending.errors import IdempotencyConflict, InvalidLoan
from credo.lending.models import Installment, JournalEntry, Loan, Posting
from credo.lending.prepay.quote import (
    MODE_LABELS,
    MODES,
    amount_fen,
    check_amount,
    check_prepayable,
    figures_on,
    new_schedule,
    split_amount,
)
from credo.lending.schedule import carried_fee, fen_to_str


@dataclass
class PrepayResult:
    loan: Loan
    due_posting: Posting | None
    posting: Posting
    principal: int
    interest: int
    paid_off: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "loan": self.loan.number,
            "status": self.loan.status,
            "due_posting_id": self.due_posting.pk if self.due_posting else None,
            "posting_id": self.posting.pk,
            "principal": fen_to_str(self.principal),
            "interest": fen_to_str(self.interest),
            "outstanding_principal": fen_to_str(self.loan.outstanding_principal.fen),
            "paid_off": self.paid_off,
        }


def _result_from(posting: Posting, idempotency_key: str) -> PrepayResult:
    info = posting.allocation.get("prepayment", {})
    due = Posting.objects.filter(idempotency_key=f"{idempotency_key}:due").first()
    loan = Loan.objects.get(pk=posting.loan_id)
    return PrepayResult(
        loan=loan,
        due_posting=due,
        posting=posting,
        principal=int(info.get("principal", 0)),
        interest=int(info.get("interest", 0)),
        paid_off=loan.status == Loan.Status.PAID_OFF,
    )


def _value_dated(loan: Loan, on_date: dt.date, posting: Posting) -> bool:
    """A close of business on or after ``on_date`` already ran, or later money is booked."""
    if loan.last_eod_date is not None and on_date <= loan.last_eod_date:
        return True
    return (
        Posting.objects.filter(loan=loan, reversed_at__isnull=True, received_on__gt=on_date)
        .exclude(pk=posting.pk)
        .exists()
    )


@transaction.atomic
def prepay(
    *,
    loan: Loan,
    amount: Any,
    on_date: dt.date,
    mode: str,
    actor: Any,
    idempotency_key: str | None = None,
    channel: str = Posting.Channel.MANUAL,
) -> PrepayResult:
    """Post a prepayment: what is due first, the rest to principal; reschedule or close."""
    if mode not in MODES:
        raise InvalidLoan(_("提前还款方式只能是“缩短期限”或“减少月供”。"))
    fen = amount_fen(amount)
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if idempotency_key:
        existing = Posting.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if (
                existing.loan_id != locked.pk
                or "prepayment" not in existing.allocation
                or (existing.allocation["prepayment"].get("amount") != fen)
            ):
                raise IdempotencyConflict(_("该幂等键已用于另一笔还款。"))
            return _result_from(existing, idempotency_key)
    check_prepayable(locked, on_date)
    rows = list(locked.installments.select_for_update().order_by("period"))
    figures = figures_on(locked, on_date, rows)
    check_amount(figures, fen)
    if not figures.future:
        raise InvalidLoan(_("没有未到期的本金，无需提前还款。"))

    due_posting = None
    if figures.due_total:
        due_posting = services.repayment_post(
            loan=locked,
            amount=Money.from_fen(figures.due_total),
            received_on=on_date,
            actor=actor,
            channel=channel,
            reference=_("提前还款前结清到期款"),
            idempotency_key=f"{idempotency_key}:due" if idempotency_key else None,
        )
        locked = Loan.objects.select_for_update().get(pk=loan.pk)

    rest = fen - figures.due_total
    # the fees on the replaced rows (收费, a fee due with installment 1) are part of the payoff:
    # the money beyond principal + accrued interest pays them, on the prepayment row
    fee_part = min(
        figures.carried, max(rest - figures.future_principal - figures.accrued_interest, 0)
    )
    principal, interest = split_amount(locked, figures, rest - fee_part)
    balance = figures.future_principal - principal
    schedule = new_schedule(locked, figures, balance, mode) if balance > 0 else None

    old_periods = [i.period for i in figures.future]
    fee = locked.installment_fee.fen
    # ad hoc charges (收费) on the replaced rows stay due: on the first new row, or on the
    # prepayment row itself when the loan is paid off
    carried = carried_fee([i.fee_due.fen for i in figures.future], fee)
    Installment.objects.filter(pk__in=[i.pk for i in figures.future]).delete()
    next_period = min(old_periods)
    row_fee = carried if schedule is None else 0
    prepay_row = Installment.objects.create(  # type: ignore[misc]
        loan=locked,
        period=next_period,
        due_date=on_date,
        principal_due=principal,
        interest_due=interest,
        fee_due=row_fee,
        principal_paid=principal,
        interest_paid=interest,
        status=Installment.Status.DUE if row_fee else Installment.Status.PAID,
        paid_on=None if row_fee else on_date,
    )
    if schedule is not None:
        Installment.objects.bulk_create(
            [
                Installment(
                    loan=locked,
                    period=next_period + k + 1,
                    due_date=i.due_date,
                    principal_due=i.principal,
                    interest_due=i.interest,
                    fee_due=fee + (carried if k == 0 else 0),
                )
                for k, i in enumerate(schedule.installments)
            ]
        )
        locked.maturity_date = schedule.installments[-1].due_date
    else:
        locked.maturity_date = on_date
    if carried:
        from credo.lending.charges.services import charges_carried

        charges_carried(locked, old_periods, next_period + (1 if schedule is not None else 0))

    entry = ledger.post_entry(
        loan=locked,
        kind=JournalEntry.Kind.REPAYMENT,
        business_date=on_date,
        actor=actor,
        memo=f"提前还款 {locked.number}",
        lines=[
            ("cash", principal + interest, 0),
            ("loan_principal", 0, principal),
            ("interest_income", 0, interest),
        ],
    )
    locked.outstanding_principal = Money.from_fen(locked.outstanding_principal.fen - principal)
    before = locked.status
    locked.version += 1
    fsm.transition(locked, loan_status_after(locked), save=False, allow_same=True)
    locked.save()
    info = {
        "amount": fen,
        "principal": principal,
        "interest": interest,
        "mode": mode,
        "on_date": on_date.isoformat(),
        "interest_days": figures.days,
        "replaced_periods": old_periods,
        "new_months": len(schedule.installments) if schedule else 0,
    }
    posting = Posting.objects.create(  # type: ignore[misc]
        loan=locked,
        amount=Money.from_fen(principal + interest),
        received_on=on_date,
        channel=channel,
        reference=_("提前还款"),
        idempotency_key=idempotency_key or None,
        allocation={
            "installments": [
                {
                    "installment": prepay_row.pk,
                    "period": prepay_row.period,
                    "principal": principal,
                    "interest": interest,
                }
            ],
            "totals": {"penalty": 0, "fee": 0, "interest": interest, "principal": principal},
            "credit": 0,
            "prepayment": info,
        },
        entry=entry,
        actor=actor,
    )
    fee_posting = None
    if fee_part:
        # a repayment of the carried fees on the prepayment row (due on ``on_date``), after
        # the prepayment: the replay sees the same two events in the same order
        fee_posting = services.repayment_post(
            loan=locked,
            amount=Money.from_fen(fee_part),
            received_on=on_date,
            actor=actor,
            channel=channel,
            reference=_("提前结清应付费用"),
            idempotency_key=f"{idempotency_key}:fee" if idempotency_key else None,
        )
        locked.refresh_from_db()
    if _value_dated(locked, on_date, posting):
        # 倒起息: closes (or later money) already passed the value date — replay the loan
        # through the prepayment so the split, the rebuilt schedule, 罚息 and DPD are what an
        # on-time posting would have produced (same pure arithmetic, see replay.engine)
        from credo.lending.replay.service import replay_loan

        replay_loan(
            locked,
            actor=actor,
            reason=_("提前还款倒起息（起息日 %(d)s）") % {"d": on_date.isoformat()},
            trigger=posting,
            from_date=on_date,
        )
        locked.refresh_from_db()
        posting.refresh_from_db()
    paid_off = locked.status == Loan.Status.PAID_OFF
    if paid_off and before != Loan.Status.PAID_OFF and fee_posting is None:
        from credo.lending.payoff_hooks import notify_paid_off

        notify_paid_off(locked.pk)
    audit_record(
        action="loan.prepay",
        actor=actor,
        obj=locked,
        changes={"status": [before, locked.status]} if before != locked.status else {},
        metadata={"posting": posting.pk, **info},
    )
    title = (
        _("贷款 %(n)s 提前结清，还款 %(amt)s 元")
        if paid_off
        else _("贷款 %(n)s 提前还款 %(amt)s 元（%(mode)s）")
    ) % {"n": locked.number, "amt": fen_to_str(fen), "mode": MODE_LABELS[mode]}
    record_event(
        customer=locked.customer,
        kind="repayment",
        actor=actor,
        obj=posting,
        source="lending",
        title=title,
        detail={"principal": principal, "interest": interest, "mode": mode},
    )
    return PrepayResult(
        loan=locked,
        due_posting=due_posting,
        posting=posting,
        principal=principal,
        interest=interest,
        paid_off=paid_off,
    )
