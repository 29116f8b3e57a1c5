"""提前还款试算: the figures of a prepayment on a date (what is due, accrued interest, payoff), its
checks and the quote with both rescheduling options (rules: :mod:`credo.lending.prepay`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.money import Money
from credo.lending.allocation import COMPONENTS, due_components
from credo.lending.errors import InvalidLoan, InvalidState
from credo.lending.models import Installment, Loan
from credo.lending.schedule import (
    PREPAY_DAYS_IN_YEAR,
    PrepayFigures,
    RowView,
    Schedule,
    ScheduleError,
    carried_fee,
    fen_to_str,
    prepayment_figures,
    prepayment_schedule,
    prepayment_split,
)
from credo.lending.states import LOAN_OPEN_STATES

MODES = ("reduce_payment", "shorten_term")
MODE_LABELS = {"reduce_payment": "保持期限、减少月供", "shorten_term": "保持月供、缩短期限"}
DAYS_IN_YEAR = PREPAY_DAYS_IN_YEAR


@dataclass
class Figures:
    due: dict[str, int]
    due_total: int
    future: list[Installment]
    future_principal: int
    last_due: dt.date
    days: int
    accrued_interest: int
    pure: PrepayFigures
    # fees on the not-yet-due rows beyond the regular installment fee (收费, an upfront fee
    # collected with installment 1): a rebuild carries them, a full payoff pays them
    carried: int = 0

    @property
    def payoff(self) -> int:
        return self.due_total + self.accrued_interest + self.future_principal + self.carried


def row_view(inst: Installment) -> RowView:
    """An installment as the shared rebuild arithmetic of :mod:`credo.lending.schedule` sees it."""
    paid = inst.status == Installment.Status.PAID
    return RowView(
        period=inst.period,
        due_date=inst.due_date,
        principal_due=inst.principal_due.fen,
        interest_due=inst.interest_due.fen,
        principal_owed=inst.principal_due.fen - inst.principal_paid.fen,
        paid=paid,
        paid_on=inst.paid_on,
        untouched=not paid
        and not (
            inst.principal_paid.fen
            or inst.interest_paid.fen
            or inst.fee_paid.fen
            or inst.penalty_paid.fen
        ),
    )


def repayment_day_of(loan: Loan) -> int | None:
    return loan.repayment_day or (loan.start_date.day if loan.start_date else None)


def due_on_value_date(
    loan: Loan, on_date: dt.date, installments: list[Installment]
) -> dict[str, int] | None:
    """What was due on ``on_date`` (before that day's close), replayed from the loan's events
    valued up to it — for a date the close of business has already passed: today's rows carry
    the 罚息/复利 charged *after* ``on_date`` and the repayments valued after it, neither of which
    a prepayment valued that day pays (an on-time posting would not have). ``None`` when the
    loan cannot be replayed (a legacy schedule before a barrier): the caller uses today's rows."""
    from credo.core.holidays import load_calendar
    from credo.lending.replay import engine
    from credo.lending.replay.service import loan_floor, replay_inputs

    inputs = replay_inputs([loan], {loan.pk: installments})[loan.pk]
    if inputs.barrier is not None and on_date <= inputs.barrier:
        return None
    events = [
        e
        for e in inputs.events
        if e.value_date < on_date or (e.value_date == on_date and e.kind not in engine.AFTER_CLOSE)
    ]
    try:
        result = engine.replay(
            inputs.terms,
            inputs.schedule,
            events,
            on_date - dt.timedelta(days=1),
            load_calendar(),
            loan_floor(loan),
        )
    except engine.ReplayError:
        return None
    due = dict.fromkeys(COMPONENTS, 0)
    for inst in result.state.insts:
        if inst.due_date <= on_date and inst.status not in (engine.PAID, engine.WRITTEN_OFF):
            for comp in COMPONENTS:
                due[comp] += inst.owed(comp)
    return due


def figures_on(loan: Loan, on_date: dt.date, installments: list[Installment]) -> Figures:
    due = dict.fromkeys(COMPONENTS, 0)
    for inst in installments:
        if inst.due_date <= on_date and inst.status != Installment.Status.PAID:
            for comp, value in due_components(inst).items():
                due[comp] += value
    if loan.last_eod_date is not None and on_date <= loan.last_eod_date:
        # 倒起息: the arrears as they stood on the value date, not today's
        due = due_on_value_date(loan, on_date, installments) or due
    pure = prepayment_figures(
        [row_view(i) for i in installments],
        on_date=on_date,
        start=loan.start_date,
        repayment_day=repayment_day_of(loan),
        annual_rate=loan.annual_rate,
    )
    future_periods = {r.period for r in pure.future}
    future = [i for i in installments if i.period in future_periods]
    return Figures(
        due=due,
        due_total=sum(due.values()),
        future=future,
        future_principal=pure.future_principal,
        last_due=pure.last_due,
        days=pure.days,
        accrued_interest=pure.accrued_interest,
        pure=pure,
        carried=carried_fee(
            [i.fee_due.fen - i.fee_paid.fen for i in future], loan.installment_fee.fen
        ),
    )


def split_amount(loan: Loan, figures: Figures, rest: int) -> tuple[int, int]:
    """(principal, interest) of a prepaid amount ``rest`` beyond what is due."""
    return prepayment_split(figures.pure, loan.annual_rate, rest)


def new_schedule(loan: Loan, figures: Figures, balance: int, mode: str) -> Schedule:
    try:
        return prepayment_schedule(
            figures.pure,
            balance=balance,
            annual_rate=loan.annual_rate,
            method=loan.method,
            mode=mode,
            repayment_day=repayment_day_of(loan),
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
    from credo.lending.replay.service import check_value_date

    check_value_date(loan, on_date)  # not before an executed restructuring


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
        "carried_fee": fen_to_str(figures.carried),
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
