"""提前还款试算: the figures of a prepayment on a date (what is due, accrued interest, payoff), its
checks and the quote with both rescheduling options (rules: :mod:`credo.lending.prepay`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.money import Money
from credo.lending.allocation import COMPONENTS, due_components
from credo.lending.errors import InvalidLoan, InvalidState
from credo.lending.models import Installment, Loan
from credo.lending.schedule import (
    Schedule,
    ScheduleError,
    fen_to_str,
    period_months,
    reschedule_after_prepayment,
    same_day,
)
from credo.lending.states import LOAN_OPEN_STATES

MODES = ("reduce_payment", "shorten_term")
MODE_LABELS = {"reduce_payment": "保持期限、减少月供", "shorten_term": "保持月供、缩短期限"}
DAYS_IN_YEAR = 360


@dataclass
class Figures:
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


def _is_prepayment_row(inst: Installment, day: int | None) -> bool:
    """The paid row an earlier prepayment left (due date = its value date, off the repayment
    day): not a period boundary — interest periods and the new schedule keep the scheduled
    due dates (else a second prepayment in the same period would skip a due date)."""
    return (
        day is not None
        and inst.status == Installment.Status.PAID
        and inst.paid_on == inst.due_date
        and not same_day(inst.due_date, day)
    )


def figures_on(loan: Loan, on_date: dt.date, installments: list[Installment]) -> Figures:
    due = dict.fromkeys(COMPONENTS, 0)
    future: list[Installment] = []
    last_due = loan.start_date or on_date
    day = loan.repayment_day or (loan.start_date.day if loan.start_date else None)
    for inst in installments:
        if inst.due_date <= on_date:
            if inst.status != Installment.Status.PAID:
                for comp, value in due_components(inst).items():
                    due[comp] += value
            if not _is_prepayment_row(inst, day):
                last_due = max(last_due, inst.due_date)
        elif inst.status != Installment.Status.PAID:
            future.append(inst)
    future_principal = sum(due_components(i)["principal"] for i in future)
    days = max((on_date - last_due).days, 0)
    accrued = _half_up(future_principal * _rate_per_day_fraction(loan, days))
    return Figures(
        due=due,
        due_total=sum(due.values()),
        future=future,
        future_principal=future_principal,
        last_due=last_due,
        days=days,
        accrued_interest=accrued,
    )


def split_amount(loan: Loan, figures: Figures, rest: int) -> tuple[int, int]:
    """(principal, interest) of a prepaid amount ``rest`` beyond what is due."""
    if rest >= figures.future_principal + figures.accrued_interest:
        return figures.future_principal, rest - figures.future_principal
    factor = 1 + _rate_per_day_fraction(loan, figures.days)
    principal = int(Fraction(rest) / factor)  # floor
    return principal, rest - principal


def _regular_payment(future: list[Installment]) -> int:
    """The installment a ``shorten_term`` prepayment keeps (等额本息; skips a broken first
    period)."""
    pick = future[1] if future[0].period == 1 and len(future) > 1 else future[0]
    return pick.principal_due.fen + pick.interest_due.fen


def _regular_principal(future: list[Installment]) -> int:
    """The principal per period a ``shorten_term`` prepayment keeps (等额本金: every period but
    the last repays the same principal; a broken first period differs only by its interest)."""
    return future[0].principal_due.fen


def _remaining_months(loan: Loan, figures: Figures) -> int:
    """Months left: installments left × months per period (3 for the quarterly methods); for
    a bullet loan the months to its maturity."""
    if loan.method != "bullet":
        return len(figures.future) * period_months(loan.method)
    end = figures.future[-1].due_date
    start = figures.last_due
    return max((end.year - start.year) * 12 + end.month - start.month, 1)


def new_schedule(loan: Loan, figures: Figures, balance: int, mode: str) -> Schedule:
    try:
        return reschedule_after_prepayment(
            balance=balance,
            annual_rate=loan.annual_rate,
            remaining_months=_remaining_months(loan, figures),
            method=loan.method,
            last_due=figures.last_due,
            regular_payment=_regular_payment(figures.future),
            regular_principal=_regular_principal(figures.future),
            mode=mode,
            repayment_day=loan.repayment_day or (loan.start_date.day if loan.start_date else None),
        )
    except ScheduleError as exc:
        raise InvalidLoan(str(exc)) from exc


def check_prepayable(loan: Loan, on_date: dt.date) -> None:
    if loan.status not in LOAN_OPEN_STATES:
        raise InvalidState(
            _("贷款 %(n)s 状态为“%(s)s”，不能提前还款。")
            % {"n": loan.number, "s": loan.get_status_display()}
        )
    if loan.start_date and on_date < loan.start_date:
        raise InvalidLoan(_("提前还款日期不能早于放款日。"))
    if on_date > clock.today():
        raise InvalidLoan(_("提前还款日期不能晚于今天。"))


def amount_fen(amount: Any) -> int:
    if isinstance(amount, Money):
        return amount.fen
    try:
        return Money(amount).fen
    except (TypeError, ValueError) as exc:
        raise InvalidLoan(_("金额格式不正确。")) from exc


def check_amount(figures: Figures, amount: int) -> None:
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
    check_prepayable(loan, on_date)
    figures = figures_on(loan, on_date, list(loan.installments.order_by("period")))
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
    fen = amount_fen(amount)
    check_amount(figures, fen)
    principal, interest = split_amount(loan, figures, fen - figures.due_total)
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
            schedule = new_schedule(loan, figures, balance, mode)
            result["schedules"][mode] = {
                "label": MODE_LABELS[mode],
                **_schedule_summary(schedule, fee),
            }
    return result
