"""Prepayment (提前还款): quote and post, partial or full.

Rules (the ones a bank engineer will check):

* Everything already due on ``on_date`` (installments with ``due_date <= on_date``, not paid:
  penalty, fee, interest, principal) must be paid first; it is posted as an ordinary repayment
  (``services.repayment_post``) so the loan's allocation order applies.
* The principal not yet due (``future_principal``) accrues interest for the current period pro
  rata, **actual/360**, from the last due date on or before ``on_date`` (the value date when no
  installment has fallen due yet) up to ``on_date``:
  ``accrued = future_principal × annual rate × days / 360``, half-up to the fen.
* Full payoff = due + accrued interest + future principal. A loan's credit balance (溢缴款) is
  reported but not netted.
* A partial prepayment ``R`` (the amount beyond what is due) pays principal ``p`` plus the
  accrued interest on that principal only: ``p = floor(R / (1 + rate × days / 360))``, interest
  ``R − p``. The remaining balance keeps its interest for the whole current period in the new
  schedule (no interest is charged twice).
* The unpaid future installments are deleted and replaced: one paid row for the prepayment
  (period = next period, due date = ``on_date``, so the schedule shows it and principal paid
  adds up), then the new schedule from ``schedule.reschedule_after_prepayment`` starting at the
  last due date: ``reduce_payment`` keeps the remaining term and lowers the installment,
  ``shorten_term`` keeps the installment (等额本息) and ends earlier. Periods stay continuous.
* Ledger: debit cash, credit loan_principal / interest_income, in the same transaction; the
  prepaid part is a ``Posting`` whose allocation has ``"prepayment": {...}``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_event
from credo.lending import ledger, services
from credo.lending.errors import IdempotencyConflict, InvalidLoan, InvalidState
from credo.lending.models import Installment, JournalEntry, Loan, Posting
from credo.lending.schedule import (
    Schedule,
    ScheduleError,
    fen_to_str,
    reschedule_after_prepayment,
)

MODES = ("reduce_payment", "shorten_term")
MODE_LABELS = {"reduce_payment": "保持期限、减少月供", "shorten_term": "保持月供、缩短期限"}
DAYS_IN_YEAR = 360


@dataclass
class _Figures:
    due: dict[str, int]
    due_total: int
    future: list[Installment]
    future_principal: int
    last_due: dt.date
    days: int
    accrued_interest: int

    @property
    def payoff(self) -> int:
        return self.due_total + self.accrued_interest + self.future_principal


def _rate_per_day_fraction(loan: Loan, days: int) -> Fraction:
    """annual rate (percent) × days / 360 as an exact fraction."""
    return Fraction(loan.annual_rate) * days / (100 * DAYS_IN_YEAR)


def _half_up(value: Fraction) -> int:
    return int((2 * value.numerator + value.denominator) // (2 * value.denominator))


def _figures(loan: Loan, on_date: dt.date, installments: list[Installment]) -> _Figures:
    due = dict.fromkeys(services.COMPONENTS, 0)
    future: list[Installment] = []
    last_due = loan.start_date or on_date
    for inst in installments:
        if inst.due_date <= on_date:
            if inst.status != Installment.Status.PAID:
                for comp, value in services._due_components(inst).items():
                    due[comp] += value
            last_due = max(last_due, inst.due_date)
        elif inst.status != Installment.Status.PAID:
            future.append(inst)
    future_principal = sum(i.principal_due.fen - i.principal_paid.fen for i in future)
    days = max((on_date - last_due).days, 0)
    accrued = _half_up(future_principal * _rate_per_day_fraction(loan, days))
    return _Figures(
        due=due,
        due_total=sum(due.values()),
        future=future,
        future_principal=future_principal,
        last_due=last_due,
        days=days,
        accrued_interest=accrued,
    )


def _split(loan: Loan, figures: _Figures, rest: int) -> tuple[int, int]:
    """(principal, interest) of a prepaid amount ``rest`` beyond what is due."""
    if rest >= figures.future_principal + figures.accrued_interest:
        return figures.future_principal, rest - figures.future_principal
    factor = 1 + _rate_per_day_fraction(loan, figures.days)
    principal = int(Fraction(rest) / factor)  # floor
    return principal, rest - principal


def _regular_payment(future: list[Installment]) -> int:
    """The installment a ``shorten_term`` prepayment keeps (skips a broken first period)."""
    pick = future[1] if future[0].period == 1 and len(future) > 1 else future[0]
    return pick.principal_due.fen + pick.interest_due.fen


def _remaining_months(loan: Loan, figures: _Figures) -> int:
    """Installments left (monthly methods); for a bullet loan the months to its maturity."""
    if loan.method != "bullet":
        return len(figures.future)
    end = figures.future[-1].due_date
    start = figures.last_due
    return max((end.year - start.year) * 12 + end.month - start.month, 1)


def _new_schedule(loan: Loan, figures: _Figures, balance: int, mode: str) -> Schedule:
    try:
        return reschedule_after_prepayment(
            balance=balance,
            annual_rate=loan.annual_rate,
            remaining_months=_remaining_months(loan, figures),
            method=loan.method,
            last_due=figures.last_due,
            regular_payment=_regular_payment(figures.future),
            mode=mode,
            repayment_day=loan.repayment_day or (loan.start_date.day if loan.start_date else None),
        )
    except ScheduleError as exc:
        raise InvalidLoan(str(exc)) from exc


def _check(loan: Loan, on_date: dt.date) -> None:
    if loan.status not in services.OPEN_STATES:
        raise InvalidState(
            _("贷款 %(n)s 状态为“%(s)s”，不能提前还款。")
            % {"n": loan.number, "s": loan.get_status_display()}
        )
    if loan.start_date and on_date < loan.start_date:
        raise InvalidLoan(_("提前还款日期不能早于放款日。"))
    if on_date > clock.today():
        raise InvalidLoan(_("提前还款日期不能晚于今天。"))


def _amount_fen(amount: Any) -> int:
    if isinstance(amount, Money):
        return amount.fen
    try:
        return Money(amount).fen
    except (TypeError, ValueError) as exc:
        raise InvalidLoan(_("金额格式不正确。")) from exc


def _check_amount(figures: _Figures, amount: int) -> None:
    if amount <= 0:
        raise InvalidLoan(_("提前还款金额必须大于 0。"))
    if amount <= figures.due_total:
        raise InvalidLoan(
            _("金额不超过已到期应还款 %(due)s 元，请按普通还款登记。")
            % {"due": fen_to_str(figures.due_total)}
        )
    if amount > figures.payoff:
        raise InvalidLoan(_("金额超过结清金额 %(p)s 元。") % {"p": fen_to_str(figures.payoff)})


def _schedule_summary(schedule: Schedule, fee: int) -> dict[str, Any]:
    rows = schedule.installments
    first = rows[0].as_dict()
    first["fee"] = fen_to_str(fee)
    return {
        "months": len(rows),
        "first_installment": first,
        "last_due_date": rows[-1].due_date.isoformat(),
        "total_interest": fen_to_str(schedule.total_interest),
        "installments": [r.as_dict() for r in rows],
    }


def prepayment_quote(*, loan: Loan, on_date: dt.date, amount: Any = None) -> dict[str, Any]:
    """提前还款试算. Amounts in the result are yuan strings ("1234.56")."""
    _check(loan, on_date)
    figures = _figures(loan, on_date, list(loan.installments.order_by("period")))
    result: dict[str, Any] = {
        "loan": loan.number,
        "on_date": on_date.isoformat(),
        "due": {k: fen_to_str(v) for k, v in figures.due.items()},
        "due_total": fen_to_str(figures.due_total),
        "outstanding_principal": fen_to_str(figures.future_principal),
        "interest_from": figures.last_due.isoformat(),
        "interest_days": figures.days,
        "accrued_interest": fen_to_str(figures.accrued_interest),
        "payoff_amount": fen_to_str(figures.payoff),
        "credit_balance": fen_to_str(loan.credit_balance.fen),
        "day_count": "actual/360",
    }
    if amount is None:
        return result
    fen = _amount_fen(amount)
    _check_amount(figures, fen)
    principal, interest = _split(loan, figures, fen - figures.due_total)
    balance = figures.future_principal - principal
    result["amount"] = fen_to_str(fen)
    result["prepay_principal"] = fen_to_str(principal)
    result["prepay_interest"] = fen_to_str(interest)
    result["remaining_principal"] = fen_to_str(balance)
    result["full_payoff"] = balance == 0
    result["schedules"] = {}
    if balance > 0:
        fee = loan.installment_fee.fen
        for mode in MODES:
            schedule = _new_schedule(loan, figures, balance, mode)
            result["schedules"][mode] = {
                "label": MODE_LABELS[mode],
                **_schedule_summary(schedule, fee),
            }
    return result


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
    fen = _amount_fen(amount)
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
    _check(locked, on_date)
    rows = list(locked.installments.select_for_update().order_by("period"))
    figures = _figures(locked, on_date, rows)
    _check_amount(figures, fen)
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

    principal, interest = _split(locked, figures, fen - figures.due_total)
    balance = figures.future_principal - principal
    schedule = _new_schedule(locked, figures, balance, mode) if balance > 0 else None

    old_periods = [i.period for i in figures.future]
    Installment.objects.filter(pk__in=[i.pk for i in figures.future]).delete()
    next_period = min(old_periods)
    prepay_row = Installment.objects.create(  # type: ignore[misc]
        loan=locked,
        period=next_period,
        due_date=on_date,
        principal_due=principal,
        interest_due=interest,
        fee_due=0,
        principal_paid=principal,
        interest_paid=interest,
        status=Installment.Status.PAID,
        paid_on=on_date,
    )
    if schedule is not None:
        fee = locked.installment_fee.fen
        Installment.objects.bulk_create(
            [
                Installment(
                    loan=locked,
                    period=next_period + k + 1,
                    due_date=i.due_date,
                    principal_due=i.principal,
                    interest_due=i.interest,
                    fee_due=fee,
                )
                for k, i in enumerate(schedule.installments)
            ]
        )
        locked.maturity_date = schedule.installments[-1].due_date
    else:
        locked.maturity_date = on_date

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
    locked.status = services._loan_status_after(locked)
    locked.version += 1
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
    paid_off = locked.status == Loan.Status.PAID_OFF
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
