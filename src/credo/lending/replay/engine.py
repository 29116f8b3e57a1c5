"""The value-dated servicing core: a loan's derived state as a pure function of its terms, its
schedule and its value-dated money events (倒起息重放). NO Django here.

One business day ``D`` (:func:`close_day`, the close of business uses the same function):

1. money events with value date ``D`` are applied (:func:`apply_event`): a repayment pays the
   oldest installment due on or before ``D`` first, components in the loan's order, the rest is
   held as credit (溢缴款); a waiver (减免) reduces what is owed; a fee adds a fee due; a
   write-off stops accrual;
2. the day is closed: installments due ≤ ``D`` become 已到期; past the grace days 逾期; the
   credit pays due installments; one day of 罚息 on overdue principal and (``compound``) of 复利
   on overdue interest, each ``round_half_up(amount × rate × multiplier / (100 × days_in_year))``,
   is added to the oldest overdue installment; DPD counts from the (effective) due date;
   the five-level class follows the DPD thresholds with the 2023 upgrade rule and the floor.

:func:`replay` runs that from the loan's start to ``as_of`` skipping quiet stretches (nothing
due, no event, no threshold: ``n`` × the daily amount).

Schedule-changing events are replayed, not barriers: a prepayment (提前还款, with its mode)
recomputes its principal/interest split on the balance of its value date and rebuilds the rest
of the schedule; an LPR repricing (after the close of its day) sets the rate of the following
days and rebuilds the periods after the current one — both through the pure functions of
:mod:`credo.lending.schedule` that the prepayment and repricing services call. An executed
restructuring is a new agreement and stays a barrier (see the replay service).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from credo.core.holidays import WorkingCalendar
from credo.lending.schedule import (
    RowView,
    ScheduleError,
    carried_fee,
    prepayment_figures,
    prepayment_schedule,
    prepayment_split,
    repricing_rebuild,
)

COMPONENTS = ("penalty", "fee", "interest", "principal")
DEFAULT_ALLOCATION = ("penalty", "fee", "interest", "principal")
CLASS_ORDER = ("normal", "special_mention", "substandard", "doubtful", "loss")
NON_PERFORMING = frozenset({"substandard", "doubtful", "loss"})
#: 《商业银行金融资产风险分类办法》(2023) 第十一条: 关注 any DPD, 次级 > 90, 可疑 > 270, 损失 > 360
DEFAULT_THRESHOLDS = (1, 91, 271, 361)

# installment statuses (the values of Installment.Status)
SCHEDULED, DUE, OVERDUE, PAID, WRITTEN_OFF = "scheduled", "due", "overdue", "paid", "written_off"
# loan statuses (Loan.Status)
ACTIVE, L_OVERDUE, PAID_OFF, L_WRITTEN_OFF = "active", "overdue", "paid_off", "written_off"

EVENT_KINDS = ("repayment", "prepayment", "waiver", "fee", "write_off", "reprice")
#: kinds applied after the close of their day (the LPR repricing is an after-close job)
AFTER_CLOSE = frozenset({"reprice"})
PREPAY_MODES = ("reduce_payment", "shorten_term")
#: the order of one day's events: money first, then charges, waivers, write-off (ties: as given)
KIND_RANK = {"repayment": 0, "prepayment": 0, "fee": 1, "waiver": 2, "write_off": 3, "reprice": 4}
PENALTY_FROM = ("due_date", "grace_end")
HOLIDAY_RULES = ("none", "next_working_day", "defer_penalty")
CURE_MONTHS = 6
CURE_PERIODS = 2


class ReplayError(ValueError):
    """An event sequence the engine refuses (the message is Chinese, shown to the user)."""


@dataclass(frozen=True)
class LoanTerms:
    principal: int
    annual_rate: Decimal
    start_date: dt.date
    penalty_multiplier: Decimal = Decimal("1.5")
    penalty_days_in_year: int = 360
    grace_days: int = 0
    compound: bool = True
    penalty_from: str = "due_date"  # 'due_date' | 'grace_end'
    holiday_rule: str = "defer_penalty"  # 'none' | 'next_working_day' | 'defer_penalty'
    allocation_order: tuple[str, ...] = DEFAULT_ALLOCATION
    # the upfront fee the ledger holds from disbursement (paid then, or deducted before migration
    # 0022); a fee collected with installment 1 is in that installment's fee instead
    upfront_fee: int = 0
    thresholds: tuple[int, int, int, int] = DEFAULT_THRESHOLDS
    # what a rebuild (提前还款 / 重定价) of the rest of the schedule needs
    method: str = "equal_installment"
    repayment_day: int | None = None
    installment_fee: int = 0


@dataclass(frozen=True)
class ScheduleRow:
    """One installment as scheduled (waived amounts added back; no penalty)."""

    period: int
    due_date: dt.date
    principal: int
    interest: int
    fee: int = 0
    id: int | None = None


@dataclass(frozen=True)
class MoneyEvent:
    """``kind``: repayment (amount), prepayment (``mode`` 缩短期限/减少月供 and ``amount`` = the
    prepaid part beyond what is due: principal + its accrued interest are computed on the value
    date and the rest of the schedule is rebuilt; without ``mode`` the legacy form: period +
    amounts principal/interest pay that installment), waiver (amounts per component: penalty,
    compound, fee, interest), fee (amount; ``period`` or None = the oldest unpaid installment
    due on the value date, else the next one), write_off, reprice (``rate``: the LPR repricing
    after the close of its day, rebuilds the periods after the current one). Reversed events
    are simply not passed."""

    kind: str
    value_date: dt.date
    id: Any = None
    amount: int = 0
    amounts: Mapping[str, int] = field(default_factory=dict)
    period: int | None = None
    mode: str = ""
    rate: Decimal | None = None


@dataclass(frozen=True)
class ClassFloor:
    """The class is never better than ``classification`` before ``until`` (None = no end)."""

    classification: str
    until: dt.date | None = None


@dataclass
class InstState:
    period: int
    due_date: dt.date
    principal_due: int
    interest_due: int
    fee_due: int = 0
    penalty_due: int = 0  # 罚息 + 复利
    compound_due: int = 0  # the 复利 part of penalty_due
    principal_paid: int = 0
    interest_paid: int = 0
    fee_paid: int = 0
    penalty_paid: int = 0
    status: str = SCHEDULED
    paid_on: dt.date | None = None
    id: int | None = None
    waived: dict[str, int] = field(default_factory=dict)
    charges: dict[Any, int] = field(default_factory=dict)  # ad hoc charge id → fen in fee_due
    eff: dt.date | None = field(default=None, compare=False, repr=False)  # effective due (cache)

    def owed(self, comp: str) -> int:
        due: int = getattr(self, f"{comp}_due")
        paid: int = getattr(self, f"{comp}_paid")
        return due - paid

    def settled(self) -> bool:
        return all(self.owed(c) == 0 for c in COMPONENTS)

    def unpaid_due(self) -> bool:
        return self.status in (DUE, OVERDUE)


@dataclass
class LoanState:
    """The derived state. For the close of business ``insts`` may hold only the loan's unpaid
    due installments (``rest_unpaid`` then says whether others are unpaid, ``due_dates`` lists
    the whole schedule's due dates for the upgrade rule)."""

    status: str
    dpd: int
    classification: str
    credit_balance: int
    outstanding_principal: int
    insts: list[InstState]
    cure_since: dt.date | None = None
    rest_unpaid: bool = False
    due_dates: tuple[dt.date, ...] | None = None
    written_off_principal: int = 0
    received: int = 0  # cash received (repayments + prepayments)
    annual_rate: Decimal | None = None  # after a repricing (None: the terms' rate)
    rebuilt: bool = False  # the schedule was rebuilt (prepayment / repricing) during the replay
    # every installment before index ``lo`` is settled (已还清/已核销): the day's work looks
    # only at the window from ``lo`` to the first installment not yet due
    lo: int = field(default=0, compare=False)

    def advance(self) -> None:
        insts, n = self.insts, len(self.insts)
        while self.lo < n and insts[self.lo].status in (PAID, WRITTEN_OFF):
            self.lo += 1

    def window(self, day: dt.date) -> Iterator[tuple[int, InstState]]:
        """(index, installment) from ``lo`` for the installments due on or before ``day``."""
        insts = self.insts
        for idx in range(self.lo, len(insts)):
            inst = insts[idx]
            if inst.due_date > day:
                return
            yield idx, inst

    def copy(self) -> LoanState:
        return replace(
            self,
            insts=[replace(i, waived=dict(i.waived), charges=dict(i.charges)) for i in self.insts],
        )


@dataclass
class DayOutcome:
    """What one close changed: the credit applied (an allocation), penalty and 复利 charged,
    installments newly overdue, the indexes of changed installments, the class change."""

    credit: dict[str, Any] | None = None
    penalty: int = 0
    compound: int = 0
    newly_overdue: int = 0
    changed: set[int] = field(default_factory=set)
    class_change: tuple[dt.date, str, str, int] | None = None


@dataclass
class ReplayResult:
    state: LoanState
    allocations: dict[Any, dict[str, Any]]
    ledger: dict[str, int]
    class_history: list[tuple[dt.date, str, str, int]]
    penalty_total: int
    compound_total: int
    as_of: dt.date

    @property
    def installments(self) -> list[InstState]:
        return self.state.insts

    @property
    def dpd(self) -> int:
        return self.state.dpd

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def classification(self) -> str:
        return self.state.classification

    @property
    def credit_balance(self) -> int:
        return self.state.credit_balance

    @property
    def outstanding_principal(self) -> int:
        return self.state.outstanding_principal

    def summary(self) -> dict[str, Any]:
        s = self.state
        return {
            "status": s.status,
            "dpd": s.dpd,
            "classification": s.classification,
            "credit_balance": s.credit_balance,
            "outstanding_principal": s.outstanding_principal,
            "penalty_due": sum(i.penalty_due for i in s.insts),
            "compound_due": sum(i.compound_due for i in s.insts),
            "owed": sum(i.owed(c) for i in s.insts for c in COMPONENTS if i.status != PAID),
        }


# ---------------------------------------------------------------------------------------------
# arithmetic
# ---------------------------------------------------------------------------------------------


def daily_penalty(terms: LoanTerms, amount: int) -> int:
    """One day of 罚息 (or 复利) on ``amount`` fen: rate × multiplier / days-in-year, half-up."""
    if amount <= 0:
        return 0
    daily = (
        Decimal(amount)
        * terms.annual_rate
        * terms.penalty_multiplier
        / (100 * terms.penalty_days_in_year)
    )
    return int(daily.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def effective_due(terms: LoanTerms, due: dt.date, calendar: WorkingCalendar) -> dt.date:
    """The date overdue/penalty/DPD count from: under 节假日顺延 ('defer_penalty') a due date on
    a rest day counts as the next working day. Under 'next_working_day' the stored due dates
    were moved when the schedule was made; a date that became a rest day later (the State
    Council publishes next year's holidays in the autumn, after loans were booked) counts from
    the next working day too, so no borrower is overdue on a holiday."""
    if terms.holiday_rule in ("defer_penalty", "next_working_day") and not calendar.is_working(due):
        return calendar.next_working_day(due)
    return due


def _eff(inst: InstState, terms: LoanTerms, calendar: WorkingCalendar) -> dt.date:
    if inst.eff is None:
        inst.eff = effective_due(terms, inst.due_date, calendar)
    return inst.eff


def class_rank(value: str) -> int:
    return CLASS_ORDER.index(value)


def classify_dpd(dpd: int, thresholds: Sequence[int] = DEFAULT_THRESHOLDS) -> str:
    result = CLASS_ORDER[0]
    for threshold, level in zip(thresholds, CLASS_ORDER[1:], strict=True):
        if dpd >= threshold:
            result = level
    return result


def add_months(day: dt.date, months: int) -> dt.date:
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(d, 31))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def allocation_order(terms: LoanTerms) -> list[str]:
    order = [c for c in terms.allocation_order if c in COMPONENTS]
    return order + [c for c in COMPONENTS if c not in order]


def allocate(
    terms: LoanTerms, insts: Iterable[InstState], amount: int, day: dt.date
) -> dict[str, Any]:
    """Apply ``amount`` (not saved anywhere: mutates ``insts``): oldest installment first,
    components in the loan's order, the rest as credit. Returns the allocation in the JSON
    shape of ``Posting.allocation``; settled installments become 已还清 (paid on ``day``)."""
    order = allocation_order(terms)
    remaining = amount
    parts: list[dict[str, Any]] = []
    totals = dict.fromkeys(COMPONENTS, 0)
    for inst in insts:
        if remaining <= 0:
            break
        applied: dict[str, int] = {}
        for comp in order:
            take = min(inst.owed(comp), remaining)
            if take > 0:
                applied[comp] = take
                totals[comp] += take
                remaining -= take
                setattr(inst, f"{comp}_paid", getattr(inst, f"{comp}_paid") + take)
        if applied:
            parts.append({"installment": inst.id, "period": inst.period, **applied})
            if inst.settled():
                inst.status = PAID
                inst.paid_on = inst.paid_on or day
    return {"installments": parts, "totals": totals, "credit": remaining}


def _loan_status_after(state: LoanState) -> str:
    if state.status == L_WRITTEN_OFF:
        return L_WRITTEN_OFF
    state.advance()
    insts = state.insts
    if state.outstanding_principal == 0 and state.lo == len(insts) and not state.rest_unpaid:
        return PAID_OFF
    for idx in range(state.lo, len(insts)):
        status = insts[idx].status
        if status == OVERDUE:
            return L_OVERDUE
        if status == SCHEDULED:
            break
    return ACTIVE


# ---------------------------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------------------------


def apply_event(state: LoanState, event: MoneyEvent, terms: LoanTerms) -> dict[str, Any] | None:
    """Apply one money event at its value date; returns the allocation of a repayment."""
    day = event.value_date
    if event.kind == "repayment":
        rows = [i for _x, i in state.window(day) if i.status not in (PAID, WRITTEN_OFF)]
        plan = allocate(terms, rows, event.amount, day)
        state.outstanding_principal -= plan["totals"]["principal"]
        state.credit_balance += plan["credit"]
        state.received += event.amount
        state.status = _loan_status_after(state)
        return plan
    if event.kind == "prepayment" and event.mode:
        return _prepay(state, event, terms)
    if event.kind == "reprice":
        _reprice(state, event, terms)
        return None
    if event.kind == "prepayment":
        inst = _by_period(state, event.period)
        principal = int(event.amounts.get("principal", 0))
        interest = int(event.amounts.get("interest", 0))
        inst.principal_paid += principal
        inst.interest_paid += interest
        if inst.settled():
            inst.status, inst.paid_on = PAID, inst.paid_on or day
        state.outstanding_principal -= principal
        state.received += principal + interest
        state.status = _loan_status_after(state)
        return None
    if event.kind == "fee":
        inst = _by_period(state, event.period) if event.period else _fee_row(state, day)
        inst.fee_due += event.amount
        if event.id is not None:
            inst.charges[event.id] = inst.charges.get(event.id, 0) + event.amount
        if inst.status == PAID:
            inst.status, inst.paid_on = (DUE if inst.due_date <= day else SCHEDULED), None
            state.lo = min(state.lo, state.insts.index(inst))
        state.status = _loan_status_after(state)
        return None
    if event.kind == "waiver":
        _apply_waiver(state, event)
        state.status = _loan_status_after(state)
        return None
    if event.kind == "write_off":
        state.written_off_principal += state.outstanding_principal
        state.outstanding_principal = 0
        for inst in state.insts:
            if inst.status != PAID:
                inst.status = WRITTEN_OFF
        state.status = L_WRITTEN_OFF
        return None
    raise ReplayError(f"未知的资金事件类型：{event.kind}")


def _fee_row(state: LoanState, day: dt.date) -> InstState:
    """Where an ad hoc charge is due: the oldest unpaid installment due on ``day``, else the
    next installment not yet due, else the last one."""
    for inst in state.insts:
        if inst.status not in (PAID, WRITTEN_OFF) and inst.due_date <= day:
            return inst
    for inst in state.insts:
        if inst.due_date > day and inst.status not in (PAID, WRITTEN_OFF):
            return inst
    if not state.insts:
        raise ReplayError("还款计划为空，不能收费。")
    return state.insts[-1]


def rate_of(state: LoanState, terms: LoanTerms) -> Decimal:
    return state.annual_rate if state.annual_rate is not None else terms.annual_rate


def effective_terms(state: LoanState, terms: LoanTerms) -> LoanTerms:
    """The terms in force: after a repricing the new rate (罚息/复利 use the rate of the day)."""
    if state.annual_rate is None or state.annual_rate == terms.annual_rate:
        return terms
    return replace(terms, annual_rate=state.annual_rate)


def row_view(inst: InstState) -> RowView:
    paid = inst.status == PAID
    return RowView(
        period=inst.period,
        due_date=inst.due_date,
        principal_due=inst.principal_due,
        interest_due=inst.interest_due,
        principal_owed=inst.owed("principal"),
        paid=paid,
        paid_on=inst.paid_on,
        untouched=not paid
        and not (inst.principal_paid or inst.interest_paid or inst.fee_paid or inst.penalty_paid),
    )


def _repayment_day(terms: LoanTerms) -> int:
    return terms.repayment_day or terms.start_date.day


def _new_rows(
    schedule: Any, first_period: int, fee: int, carried: int, charges: dict[Any, int]
) -> list[InstState]:
    return [
        InstState(
            period=first_period + k,
            due_date=row.due_date,
            principal_due=row.principal,
            interest_due=row.interest,
            fee_due=fee + (carried if k == 0 else 0),
            charges=dict(charges) if k == 0 else {},
        )
        for k, row in enumerate(schedule.installments)
    ]


def _carried_charges(removed: list[InstState]) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for inst in removed:
        for key, amount in inst.charges.items():
            out[key] = out.get(key, 0) + amount
    return out


def _prepay(state: LoanState, event: MoneyEvent, terms: LoanTerms) -> dict[str, Any]:
    """提前还款 on its value date through the same arithmetic as the prepayment service
    (:mod:`credo.lending.schedule`): principal + the interest accrued on it, the paid row,
    the rest of the schedule rebuilt (缩短期限 / 减少月供)."""
    if event.mode not in PREPAY_MODES:
        raise ReplayError(f"未知的提前还款方式：{event.mode}")
    day = event.value_date
    rate = rate_of(state, terms)
    fig = prepayment_figures(
        [row_view(i) for i in state.insts],
        on_date=day,
        start=terms.start_date,
        repayment_day=_repayment_day(terms),
        annual_rate=rate,
    )
    if not fig.future or state.status in (L_WRITTEN_OFF, PAID_OFF):
        # nothing left to prepay on this timeline: the money is an ordinary repayment
        return apply_event(state, replace(event, kind="repayment", mode=""), terms) or {}
    principal, interest = prepayment_split(fig, rate, event.amount)
    balance = fig.future_principal - principal
    future = {r.period for r in fig.future}
    removed = [i for i in state.insts if i.period in future]
    next_period = min(future)
    carried = carried_fee([i.fee_due for i in removed], terms.installment_fee)
    new: list[InstState] = []
    if balance > 0:
        try:
            schedule = prepayment_schedule(
                fig,
                balance=balance,
                annual_rate=rate,
                method=terms.method,
                mode=event.mode,
                repayment_day=_repayment_day(terms),
            )
        except ScheduleError as exc:
            raise ReplayError(str(exc)) from exc
        new = _new_rows(
            schedule, next_period + 1, terms.installment_fee, carried, _carried_charges(removed)
        )
    row_fee = carried if not new else 0
    paid_row = InstState(
        period=next_period,
        due_date=day,
        principal_due=principal,
        interest_due=interest,
        fee_due=row_fee,
        principal_paid=principal,
        interest_paid=interest,
        status=DUE if row_fee else PAID,
        paid_on=None if row_fee else day,
        charges=_carried_charges(removed) if row_fee else {},
    )
    state.insts = [i for i in state.insts if i.period not in future] + [paid_row, *new]
    state.insts.sort(key=lambda i: i.period)
    state.lo = 0
    state.rebuilt = True
    state.outstanding_principal -= principal
    state.received += principal + interest
    state.credit_balance += event.amount - principal - interest
    state.status = _loan_status_after(state)
    return {
        "installments": [
            {
                "installment": None,
                "period": next_period,
                "principal": principal,
                "interest": interest,
            }
        ],
        "totals": {"penalty": 0, "fee": 0, "interest": interest, "principal": principal},
        "credit": 0,
        "prepayment": {
            "principal": principal,
            "interest": interest,
            "mode": event.mode,
            "interest_days": fig.days,
            "replaced_periods": sorted(future),
            "new_months": len(new),
        },
    }


def _reprice(state: LoanState, event: MoneyEvent, terms: LoanTerms) -> None:
    """LPR 重定价 after the close of its day, as :func:`credo.lending.rates.services.loan_reprice`."""
    if event.rate is None:
        raise ReplayError("重定价事件缺少新利率。")
    state.annual_rate = Decimal(event.rate)
    if state.status not in (ACTIVE, L_OVERDUE):
        return
    try:
        plan = repricing_rebuild(
            [row_view(i) for i in state.insts],
            business_date=event.value_date,
            new_rate=event.rate,
            method=terms.method,
            repayment_day=_repayment_day(terms),
        )
    except ScheduleError as exc:
        raise ReplayError(str(exc)) from exc
    if plan is None:
        return
    current, schedule = plan
    removed = [i for i in state.insts if i.period > current]
    carried = carried_fee([i.fee_due for i in removed], terms.installment_fee)
    state.insts = [i for i in state.insts if i.period <= current] + _new_rows(
        schedule, current + 1, terms.installment_fee, carried, _carried_charges(removed)
    )
    state.lo = 0
    state.rebuilt = True


def _by_period(state: LoanState, period: int | None) -> InstState:
    for inst in state.insts:
        if inst.period == period:
            return inst
    raise ReplayError(f"还款计划中没有第 {period} 期。")


def _apply_waiver(state: LoanState, event: MoneyEvent) -> None:
    """减免: reduces what is owed, oldest installment due on/before the value date first.
    ``compound`` reduces the 复利 part of the penalty, ``penalty`` the 罚息 part first."""
    day = event.value_date
    rows = [i for _x, i in state.window(day) if i.status not in (PAID, WRITTEN_OFF)]
    for comp, amount in event.amounts.items():
        left = int(amount)
        if comp == "principal":
            if left:
                raise ReplayError("减免不能减免本金；请办理核销或重组。")
            continue
        if comp not in ("penalty", "compound", "fee", "interest"):
            raise ReplayError(f"未知的减免项目：{comp}")
        for inst in rows:
            if left <= 0:
                break
            if comp in ("penalty", "compound"):
                owed = inst.owed("penalty")
                part = inst.compound_due if comp == "compound" else owed
                take = min(left, owed, part)
                inst.penalty_due -= take
                if comp == "compound":
                    inst.compound_due -= take
                else:  # 罚息 first, then 复利 when nothing else is left
                    inst.compound_due = min(inst.compound_due, inst.penalty_due)
            else:
                take = min(left, inst.owed(comp))
                setattr(inst, f"{comp}_due", getattr(inst, f"{comp}_due") - take)
            if take > 0:
                inst.waived[comp] = inst.waived.get(comp, 0) + take
                left -= take
        if left > 0:
            raise ReplayError(f"减免金额超过 {event.value_date} 应还的金额（{comp}）。")
    for inst in rows:
        if inst.settled():
            inst.status, inst.paid_on = PAID, inst.paid_on or day


# ---------------------------------------------------------------------------------------------
# the close of one day (the close of business calls this per loan)
# ---------------------------------------------------------------------------------------------


def close_day(  # noqa: C901 — the day's steps in their regulatory order, kept together
    state: LoanState,
    day: dt.date,
    terms: LoanTerms,
    calendar: WorkingCalendar,
    floor: ClassFloor | None = None,
) -> DayOutcome:
    """Close ``day`` for one loan (mutates ``state``); returns what changed."""
    out = DayOutcome()
    if state.status in (L_WRITTEN_OFF, "pending"):
        return out
    if state.status == PAID_OFF:
        state.dpd = 0
        _classify(state, day, terms, calendar, floor, out)
        return out
    grace = dt.timedelta(days=terms.grace_days)
    newly: list[InstState] = []
    unpaid: list[tuple[int, InstState]] = []
    for idx, inst in state.window(day):
        if inst.status == SCHEDULED:
            inst.status = DUE
            out.changed.add(idx)
        if inst.status == DUE and day > _eff(inst, terms, calendar) + grace:
            inst.status = OVERDUE
            out.changed.add(idx)
            newly.append(inst)
        if inst.status in (DUE, OVERDUE):
            unpaid.append((idx, inst))
    out.newly_overdue = len(newly)
    if state.credit_balance > 0 and unpaid:
        plan = allocate(terms, [i for _x, i in unpaid], state.credit_balance, day)
        used = state.credit_balance - plan["credit"]
        if used > 0:
            out.credit = plan
            state.credit_balance = plan["credit"]
            state.outstanding_principal -= plan["totals"]["principal"]
            touched = {p["period"] for p in plan["installments"]}
            out.changed.update(idx for idx, i in unpaid if i.period in touched)
            unpaid = [(idx, i) for idx, i in unpaid if i.status != PAID]
    overdue = [(idx, i) for idx, i in unpaid if i.status == OVERDUE]
    if overdue:
        principal = sum(i.owed("principal") for _x, i in overdue)
        penalty = daily_penalty(terms, principal)
        compound = daily_penalty(terms, sum(i.owed("interest") for _x, i in overdue))
        compound = compound if terms.compound else 0
        if terms.penalty_from == "due_date":
            # once past grace, the grace days are charged from the due date (retroactively)
            for inst in newly:
                if inst.status != OVERDUE:
                    continue
                days = (day - _eff(inst, terms, calendar)).days - 1
                if days > 0:
                    penalty += days * daily_penalty(terms, inst.owed("principal"))
                    if terms.compound:
                        compound += days * daily_penalty(terms, inst.owed("interest"))
        if penalty or compound:
            idx, oldest = overdue[0]
            oldest.penalty_due += penalty + compound
            oldest.compound_due += compound
            out.changed.add(idx)
        out.penalty, out.compound = penalty, compound
    state.dpd = _dpd(state, day, terms, calendar)
    state.status = _loan_status_after(state)
    _classify(state, day, terms, calendar, floor, out)
    return out


def _dpd(state: LoanState, day: dt.date, terms: LoanTerms, calendar: WorkingCalendar) -> int:
    """Days past the (effective) due date of the oldest unpaid due installment."""
    state.advance()
    if state.lo < len(state.insts):
        inst = state.insts[state.lo]
        if inst.unpaid_due():
            return max(0, (day - _eff(inst, terms, calendar)).days)
    return 0


def _classify(
    state: LoanState,
    day: dt.date,
    terms: LoanTerms,
    calendar: WorkingCalendar,
    floor: ClassFloor | None,
    out: DayOutcome,
) -> None:
    """五级分类: worse at once by DPD; a 不良 loan moves up only after its arrears are repaid
    and two consecutive periods or 6 months (the longer) were then paid on time; never better
    than the floor before its date."""
    current = state.classification
    arrears = state.status == L_OVERDUE
    if arrears:
        state.cure_since = None
    elif current in NON_PERFORMING and state.cure_since is None:
        state.cure_since = day
    target = classify_dpd(state.dpd, terms.thresholds)
    if state.status == PAID_OFF:
        target = CLASS_ORDER[0]
    elif (
        class_rank(target) < class_rank(current)
        and current in NON_PERFORMING
        and not _cured(state, day, terms, calendar)
    ):
        target = current
    if (
        floor is not None
        and (floor.until is None or day < floor.until)
        and class_rank(floor.classification) > class_rank(target)
    ):
        target = floor.classification
    if target not in NON_PERFORMING:
        state.cure_since = None
    if target != current:
        state.classification = target
        out.class_change = (day, current, target, state.dpd)


def _cured(state: LoanState, day: dt.date, terms: LoanTerms, calendar: WorkingCalendar) -> bool:
    since = state.cure_since
    if since is None or day < add_months(since, CURE_MONTHS):
        return False
    dates = state.due_dates if state.due_dates is not None else [i.due_date for i in state.insts]
    grace = dt.timedelta(days=terms.grace_days)
    passed = 0  # periods due since the cure whose grace has passed (paid on time: no arrears)
    for d in dates[bisect.bisect_right(dates, since) :]:
        if effective_due(terms, d, calendar) + grace >= day:
            break
        passed += 1  # noqa: SIM113
    return passed >= CURE_PERIODS


def _next_stop(
    state: LoanState,
    day: dt.date,
    terms: LoanTerms,
    calendar: WorkingCalendar,
    floor: ClassFloor | None,
) -> dt.date | None:
    """The next day after ``day`` on which a close may do more than accrue the same amounts."""
    if state.status in (L_WRITTEN_OFF, PAID_OFF):
        return None
    grace = dt.timedelta(days=terms.grace_days + 1)
    candidates: list[dt.date] = []
    state.advance()
    insts = state.insts
    start = state.lo
    if state.cure_since is not None or state.classification in NON_PERFORMING:
        # installments paid ahead count for the upgrade once their grace has passed
        dates = [i.due_date for i in insts]
        start = min(start, bisect.bisect_left(dates, day - grace - dt.timedelta(days=40)))
    for idx in range(start, len(insts)):
        inst = insts[idx]
        if inst.status == SCHEDULED:
            candidates.append(inst.due_date)
            break
        eff_end = _eff(inst, terms, calendar) + grace
        if eff_end > day:
            candidates.append(eff_end)
    if state.lo < len(insts) and insts[state.lo].unpaid_due():
        first_unpaid = _eff(insts[state.lo], terms, calendar)
        candidates.extend(first_unpaid + dt.timedelta(days=t) for t in terms.thresholds)
    if state.cure_since is not None:
        candidates.append(add_months(state.cure_since, CURE_MONTHS))
    if floor is not None and floor.until is not None:
        candidates.append(floor.until)
    later = [c for c in candidates if c > day]
    return min(later) if later else None


def _quiet_days(
    state: LoanState, last: dt.date, n: int, terms: LoanTerms, calendar: WorkingCalendar
) -> tuple[int, int]:
    """``n`` quiet closes after ``last`` (nothing but accrual): n × the daily amounts."""
    overdue = []
    for idx in range(state.lo, len(state.insts)):
        inst = state.insts[idx]
        if inst.status == SCHEDULED:
            break
        if inst.status == OVERDUE:
            overdue.append(inst)
    penalty = compound = 0
    if overdue:
        penalty = n * daily_penalty(terms, sum(i.owed("principal") for i in overdue))
        if terms.compound:
            compound = n * daily_penalty(terms, sum(i.owed("interest") for i in overdue))
        overdue[0].penalty_due += penalty + compound
        overdue[0].compound_due += compound
    state.dpd = _dpd(state, last + dt.timedelta(days=n), terms, calendar)
    return penalty, compound


# ---------------------------------------------------------------------------------------------
# replay
# ---------------------------------------------------------------------------------------------


def initial_state(terms: LoanTerms, schedule: Sequence[ScheduleRow]) -> LoanState:
    return LoanState(
        status=ACTIVE,
        dpd=0,
        classification=CLASS_ORDER[0],
        credit_balance=0,
        outstanding_principal=terms.principal,
        insts=[
            InstState(
                period=r.period,
                due_date=r.due_date,
                principal_due=r.principal,
                interest_due=r.interest,
                fee_due=r.fee,
                id=r.id,
            )
            for r in sorted(schedule, key=lambda r: r.period)
        ],
    )


def ledger_balances(terms: LoanTerms, state: LoanState) -> dict[str, int]:
    """Debit − credit per account that the cash-basis ledger holds for this loan."""
    paid = {c: sum(getattr(i, f"{c}_paid") for i in state.insts) for c in COMPONENTS}
    return {
        "loan_principal": terms.principal - paid["principal"] - state.written_off_principal,
        "interest_income": -paid["interest"],
        "penalty_income": -paid["penalty"],
        "fee_income": -(terms.upfront_fee + paid["fee"]),
        "customer_credit": -state.credit_balance,
        "write_off_expense": state.written_off_principal,
        "cash": -(terms.principal - terms.upfront_fee) + state.received,
    }


def replay(
    terms: LoanTerms,
    schedule: list[ScheduleRow],
    events: list[MoneyEvent],
    as_of: dt.date,
    calendar: WorkingCalendar,
    floor: ClassFloor | None = None,
    *,
    day_by_day: bool = False,
) -> ReplayResult:
    """Replay the loan from its start: every day up to ``as_of`` applies its events and is
    closed; events after ``as_of`` are applied without a close (posted after the last close of
    business). ``day_by_day`` closes every day (the reference the fast path is tested against)."""
    for ev in events:
        if ev.kind not in EVENT_KINDS:
            raise ReplayError(f"未知的资金事件类型：{ev.kind}")
        if ev.value_date < terms.start_date:
            raise ReplayError(f"起息日 {ev.value_date} 早于放款日 {terms.start_date}。")
    # on one day: the money events, the close, then the after-close events (repricing)
    ordered = sorted(
        enumerate(events),
        key=lambda p: (
            p[1].value_date,
            p[1].kind in AFTER_CLOSE,
            KIND_RANK.get(p[1].kind, 9),
            p[0],
        ),
    )
    state = initial_state(terms, schedule)
    allocations: dict[Any, dict[str, Any]] = {}
    history: list[tuple[dt.date, str, str, int]] = []
    penalty_total = compound_total = 0
    pos = 0
    day = terms.start_date
    one = dt.timedelta(days=1)

    def apply(ev: MoneyEvent) -> None:
        plan = apply_event(state, ev, effective_terms(state, terms))
        if plan is not None:
            allocations[ev.id] = plan

    while day <= as_of:
        while (
            pos < len(ordered)
            and ordered[pos][1].value_date == day
            and ordered[pos][1].kind not in AFTER_CLOSE
        ):
            apply(ordered[pos][1])
            pos += 1
        t = effective_terms(state, terms)
        out = close_day(state, day, t, calendar, floor)
        penalty_total += out.penalty
        compound_total += out.compound
        if out.class_change:
            history.append(out.class_change)
        while pos < len(ordered) and ordered[pos][1].value_date == day:
            apply(ordered[pos][1])
            pos += 1
        t = effective_terms(state, terms)
        nxt = day + one
        if not day_by_day:
            stop = _next_stop(state, day, t, calendar, floor)
            if pos < len(ordered):
                ev_day = ordered[pos][1].value_date
                stop = ev_day if stop is None else min(stop, ev_day)
            target = as_of + one if stop is None else min(stop, as_of + one)
            quiet = (target - nxt).days
            if quiet > 0:
                p, c = _quiet_days(state, day, quiet, t, calendar)
                penalty_total += p
                compound_total += c
                nxt = target
        day = nxt
    while pos < len(ordered):  # value dates after the last close: applied, not closed
        apply(ordered[pos][1])
        pos += 1
    return ReplayResult(
        state=state,
        allocations=allocations,
        ledger=ledger_balances(terms, state),
        class_history=history,
        penalty_total=penalty_total,
        compound_total=compound_total,
        as_of=as_of,
    )


def apply_naive(
    terms: LoanTerms, schedule: list[ScheduleRow], events: list[MoneyEvent]
) -> LoanState:
    """The floor of the benchmark: the events' allocation alone, no closes."""
    state = initial_state(terms, schedule)
    for ev in sorted(events, key=lambda e: e.value_date):
        apply_event(state, ev, effective_terms(state, terms))
    return state
