"""Repayment schedules — pure Python, no Django. Amounts are integers of fen.

Rules (the ones a bank engineer will check):

* Monthly rate r = annual rate / 12, quarterly rate = annual rate / 4 (exact rationals;
  ``annual_rate`` is a percentage, 4.9 = 4.9 %). ``months`` is always the term in months; a
  quarterly method has ``months / 3`` periods (the term must be a multiple of 3).
* Interest of a period = outstanding balance × period rate, rounded ROUND_HALF_UP to the fen.
* ``equal_installment`` (等额本息, monthly) and ``equal_installment_quarterly`` (按季等额本息):
  installment A = P·r·(1+r)^n / ((1+r)^n − 1) rounded half-up to the fen; principal of a period
  = A − interest; the last period repays the whole remaining balance, so principal sums exactly
  to P and the final balance is 0. The last installment therefore differs from A by the
  accumulated rounding, at most ((1+r)^n − 1)/r fen (for 1,000,000 at 4.9 % over 360 months:
  5305.19 vs 5307.27).
* ``equal_principal`` (等额本金): principal per period = P / n rounded half-up to the fen, as
  bank calculators do (1,000,000 at 4.9 % over 360 months: first payment 6,861.11, each month
  11.34 less, total interest 737,041.67); the last period takes the remainder. Guard for tiny
  principals: when the rounded amount × (n − 1) would reach P (the last period would repay
  nothing or a negative amount), P / n is truncated instead, so no principal is negative and
  the balance never goes below 0. With ``fixed_principal`` (a 缩短期限 prepayment) the
  per-period principal is kept and the number of periods follows: ⌈balance / principal⌉.
* ``interest_only`` (按月付息到期还本, also called 先息后本): interest every month, all principal
  with the last one. ``interest_quarterly`` (按季付息到期还本): the same every 3 months.
* ``bullet`` (到期一次还本付息): one payment at maturity. Without a repayment day, interest =
  P × annual × months / 12. With a repayment day different from the start day, the maturity is
  that day in the month ``months`` after the start and the broken days are charged by the
  《人民币利率管理规定》 formula for a term of whole months plus odd days: interest = P × annual
  × (m / 12 + d / days_in_year), m = whole months from the start date to the maturity, d = the
  days left over (may be 0).
* Due dates keep the day of the month of the first due date and clamp at month end
  (Jan 31 → Feb 28/29 → Mar 31); quarterly methods step 3 months.
* Broken first period: when a ``repayment_day`` is given and differs from the start day, the first
  due date is that day in the month after the start (3 months after for quarterly methods); its
  interest is pro rata, balance × annual / ``days_in_year`` × actual days (actual/360 by
  default); the principal track is unchanged. A start date that *is* the repayment day clamped at
  month end (start Feb 28, repayment day 31) is not a broken period: the first period is a whole
  month (no extra day for loans started or rescheduled on the 29th–31st).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any, overload

METHODS = (
    "equal_installment",
    "equal_principal",
    "interest_only",
    "bullet",
    "interest_quarterly",
    "equal_installment_quarterly",
)
METHOD_LABELS = {
    "equal_installment": "等额本息",
    "equal_principal": "等额本金",
    "interest_only": "按月付息到期还本（先息后本）",
    "bullet": "到期一次还本付息",
    "interest_quarterly": "按季付息到期还本",
    "equal_installment_quarterly": "按季等额本息",
}
# Months between two due dates of a method (every other method: 1).
PERIOD_MONTHS = {"interest_quarterly": 3, "equal_installment_quarterly": 3}
MAX_MONTHS = 600


class ScheduleError(ValueError):
    """Invalid schedule input; the message is shown to users (Chinese)."""


def add_months(start: dt.date, months: int, day: int | None = None) -> dt.date:
    """``start`` + ``months`` calendar months on ``day`` (default: start's day), clamped."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day or start.day, last))


def _half_up_div(numerator: int, denominator: int) -> int:
    """round_half_up(numerator / denominator) for integers (denominator > 0)."""
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def _rate(annual_rate: Any) -> Fraction:
    if isinstance(annual_rate, float):
        raise TypeError("annual_rate must be a Decimal, int or str, not float")
    value = Fraction(Decimal(str(annual_rate)))
    if value < 0 or value > 100:
        raise ScheduleError("年利率应在 0–100% 之间。")
    return value


@dataclass(frozen=True, slots=True)
class Installment:
    period: int
    due_date: dt.date
    payment: int
    principal: int
    interest: int
    balance: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "due_date": self.due_date.isoformat(),
            "payment": fen_to_str(self.payment),
            "principal": fen_to_str(self.principal),
            "interest": fen_to_str(self.interest),
            "balance": fen_to_str(self.balance),
        }


@dataclass(frozen=True)
class Schedule:
    principal: int
    annual_rate: Decimal
    method: str
    start: dt.date
    due_dates: Sequence[dt.date]
    principals: list[int]
    interests: list[int]
    balances: list[int]
    installment_amount: int = 0  # the regular payment (equal_installment), else 0
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def installments(self) -> list[Installment]:
        cached = self._cache.get("installments")
        if cached is None:
            cached = [
                Installment(i + 1, d, p + r, p, r, b)
                for i, (d, p, r, b) in enumerate(
                    zip(self.due_dates, self.principals, self.interests, self.balances, strict=True)
                )
            ]
            self._cache["installments"] = cached
        return cached

    @property
    def total_interest(self) -> int:
        return sum(self.interests)

    @property
    def total_payment(self) -> int:
        return self.principal + self.total_interest

    def as_dict(self) -> dict[str, Any]:
        return {
            "installments": [i.as_dict() for i in self.installments],
            "total_interest": fen_to_str(self.total_interest),
            "total_payment": fen_to_str(self.total_payment),
        }


def fen_to_str(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(value: Any) -> int:
    if isinstance(value, float):
        raise TypeError("amounts must not be floats")
    dec = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int(dec * 100)


def annuity_payment(principal: int, monthly: Fraction, months: int) -> int:
    """Regular installment in fen, half-up (Decimal with 50 digits for (1+r)^n)."""
    if monthly == 0:
        return _half_up_div(principal, months)
    with localcontext() as ctx:
        ctx.prec = 50
        r = Decimal(monthly.numerator) / Decimal(monthly.denominator)
        growth = (1 + r) ** months
        amount = Decimal(principal) * r * growth / (growth - 1)
        return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def period_months(method: str) -> int:
    """Months between two due dates of ``method`` (3 for the quarterly methods, else 1)."""
    return PERIOD_MONTHS.get(method, 1)


def same_day(date: dt.date, day: int) -> bool:
    """``date`` falls on monthly day ``day`` — exactly, or clamped at month end (Feb 28 is
    "the 31st" of February), so no broken period is counted for it."""
    if date.day == day:
        return True
    return day > date.day and date.day == calendar.monthrange(date.year, date.month)[1]


def whole_months_and_days(start: dt.date, end: dt.date) -> tuple[int, int]:
    """(m, d): the most whole months ``m`` from ``start`` (clamped at month end) not after
    ``end``, and the days ``d`` left over — the 整月 + 零头天数 of a term."""
    months = (end.year - start.year) * 12 + end.month - start.month
    while months > 0 and add_months(start, months) > end:
        months -= 1
    return months, (end - add_months(start, months)).days


def _check_inputs(
    principal: int, months: int, method: str, repayment_day: int | None, days_in_year: int
) -> None:
    if isinstance(principal, bool) or not isinstance(principal, int) or principal <= 0:
        raise ScheduleError("贷款本金必须大于 0。")
    if method not in METHODS:
        raise ScheduleError(f"不支持的还款方式：{method}")
    if not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise ScheduleError(f"期限应为 1–{MAX_MONTHS} 个月。")
    step = period_months(method)
    if months % step:
        raise ScheduleError(f"{METHOD_LABELS[method]}的期限须为 {step} 个月的整数倍。")
    if repayment_day is not None and not 1 <= repayment_day <= 31:
        raise ScheduleError("还款日应为 1–31。")
    if days_in_year not in (360, 365):
        raise ScheduleError("计息天数只能是 360 或 365。")


def _bullet_interest(
    principal: int,
    annual: Fraction,
    months: int,
    start: dt.date,
    due: dt.date,
    broken: bool,
    days_in_year: int,
) -> int:
    """到期一次还本付息: P × annual × months / 12, or with broken days (a repayment day other
    than the start day) P × annual × (m / 12 + d / days_in_year) — whole months + odd days."""
    if not broken:
        return _half_up_div(principal * annual.numerator * months, annual.denominator * 1200)
    whole, days = whole_months_and_days(start, due)
    return _half_up_div(
        principal * annual.numerator * (whole * days_in_year + days * 12),
        annual.denominator * 1200 * days_in_year,
    )


Track = tuple[list[int], list[int], list[int]]  # principals, interests, balances


def _equal_principal_track(
    principal: int, periods: int, rate: Fraction, fixed_principal: int | None
) -> Track:
    num, den = rate.numerator, rate.denominator
    if fixed_principal is not None:
        if fixed_principal <= 0:
            raise ScheduleError("每期本金必须大于 0。")
        even = fixed_principal
        periods = min(periods, -(-principal // even))
    else:
        even = _half_up_div(principal, periods)  # as bank calculators: P/n half-up
        if even * (periods - 1) >= principal:  # tiny principal: rounding up would overshoot
            even = principal // periods
    last = periods - 1
    principals = [even] * last + [principal - even * last]
    balances = [principal - even * (k + 1) for k in range(last)] + [0]
    if fixed_principal is None and even * periods != principal:
        # Bank calculators: interest_k = (P − k·P/n) × r with P/n exact, i.e. on the
        # contractual equal-principal balance, so the rounding of P/n never accrues into
        # the interest (total = (n + 1)·P·r / 2 up to each period's rounding).
        per = rate * principal / periods  # exact interest on P/n, reduced once
        a, b = 2 * per.numerator, per.denominator
        two_b = 2 * b
        interests = [(a * m + b) // two_b for m in range(periods, 0, -1)]
    else:
        interests = [(2 * num * b + den) // (2 * den) for b in [principal, *balances[:-1]]]
    return principals, interests, balances


def _annuity_track(principal: int, periods: int, rate: Fraction, regular: int) -> Track:
    num, den = rate.numerator, rate.denominator
    two_num, two_den = 2 * num, 2 * den
    principals: list[int] = []
    interests: list[int] = []
    balances: list[int] = []
    add_p, add_i, add_b = principals.append, interests.append, balances.append
    balance = principal
    for _k in range(periods - 1):
        interest = (two_num * balance + den) // two_den  # half-up; balance ≥ 0
        part = regular - interest
        if part >= balance:  # a fixed payment that clears the loan early
            break
        balance -= part
        add_p(part)
        add_i(interest)
        add_b(balance)
    # The last period repays whatever is left, so principal sums exactly to the loan amount.
    add_i((two_num * balance + den) // two_den)
    add_p(balance)
    add_b(0)
    return principals, interests, balances


def _interest_only_track(principal: int, periods: int, rate: Fraction) -> Track:
    interest = (2 * rate.numerator * principal + rate.denominator) // (2 * rate.denominator)
    last = periods - 1
    return [0] * last + [principal], [interest] * periods, [principal] * last + [0]


def generate(
    *,
    principal: int,
    annual_rate: Any,
    months: int,
    method: str,
    start: dt.date,
    repayment_day: int | None = None,
    days_in_year: int = 360,
    fixed_payment: int | None = None,
    fixed_principal: int | None = None,
) -> Schedule:
    """Build a schedule. ``fixed_payment`` (等额本息 methods) keeps a given installment and
    lets the term follow from it; ``fixed_principal`` (等额本金) keeps a given principal per
    period and lets the term follow from it — both used to shorten the term after a
    prepayment (``months`` is then the upper bound)."""
    _check_inputs(principal, months, method, repayment_day, days_in_year)
    annual = _rate(annual_rate)
    step = period_months(method)
    periods = months // step
    rate = annual * step / 1200  # percent → fraction per period

    # Due dates, and the broken first period's interest factor.
    broken_days = 0
    if repayment_day is not None and not same_day(start, repayment_day):
        first_due = add_months(start, step, repayment_day)
        broken_days = (first_due - start).days
        anchor, anchor_day, offset = first_due, repayment_day, 0
    else:
        anchor, anchor_day, offset = start, repayment_day or start.day, step

    if method == "bullet":
        due = add_months(anchor, months - 1 + offset, anchor_day)
        interest = _bullet_interest(
            principal, annual, months, start, due, bool(broken_days), days_in_year
        )
        return Schedule(
            principal, Decimal(str(annual_rate)), method, start, [due], [principal], [interest], [0]
        )

    regular = 0
    if method in ("equal_installment", "equal_installment_quarterly"):
        if fixed_payment is not None:
            regular = fixed_payment
            if regular * rate.denominator <= principal * rate.numerator:
                raise ScheduleError("月供不足以覆盖利息。")  # it does not even cover the interest
            periods = min(periods, _periods_for_payment(principal, rate, regular))
        else:
            regular = annuity_payment(principal, rate, periods)
        principals, interests, balances = _annuity_track(principal, periods, rate, regular)
    elif fixed_payment is not None:
        raise ScheduleError("固定月供只适用于等额本息。")
    elif method == "equal_principal":
        principals, interests, balances = _equal_principal_track(
            principal, periods, rate, fixed_principal
        )
    else:  # interest_only, interest_quarterly
        principals, interests, balances = _interest_only_track(principal, periods, rate)
    due_dates = DueDates(anchor, anchor_day, offset, len(principals), step)
    if broken_days:
        interests[0] = _half_up_div(
            principal * annual.numerator * broken_days, annual.denominator * 100 * days_in_year
        )
    return Schedule(
        principal,
        Decimal(str(annual_rate)),
        method,
        start,
        due_dates,
        principals,
        interests,
        balances,
        regular,
    )


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class DueDates(Sequence[dt.date]):
    """The due dates of a schedule: ``add_months(anchor, k × step + offset, day)`` for k < n.

    A compact, immutable sequence computed on access — a 360-period schedule does not build
    360 date objects unless someone reads them (building them costs more than all the interest
    arithmetic). Indexing, slicing, iteration, ``len`` and equality behave like a list.
    """

    __slots__ = ("_day", "_first", "_n", "_step")

    def __init__(self, anchor: dt.date, day: int, offset: int, n: int, step: int = 1) -> None:
        self._first = anchor.year * 12 + anchor.month - 1 + offset  # months since year 0
        self._day = day
        self._n = n
        self._step = step

    def __len__(self) -> int:
        return self._n

    def _at(self, k: int) -> dt.date:
        year, month0 = divmod(self._first + k * self._step, 12)
        last = _MONTH_DAYS[month0]
        if month0 == 1 and (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            last = 29
        day = self._day
        return dt.date(year, month0 + 1, day if day <= last else last)

    @overload
    def __getitem__(self, index: int) -> dt.date: ...
    @overload
    def __getitem__(self, index: slice) -> list[dt.date]: ...
    def __getitem__(self, index: int | slice) -> dt.date | list[dt.date]:
        if isinstance(index, slice):
            return [self._at(k) for k in range(*index.indices(self._n))]
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError("due date index out of range")
        return self._at(index)

    def __iter__(self) -> Iterator[dt.date]:
        return (self._at(k) for k in range(self._n))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def truncated(self, n: int) -> DueDates:
        copy = DueDates.__new__(DueDates)
        copy._first, copy._day, copy._n = self._first, self._day, min(n, self._n)
        copy._step = self._step
        return copy


def _periods_for_payment(principal: int, monthly: Fraction, payment: int) -> int:
    if monthly == 0:
        return max(1, math.ceil(principal / payment))
    r = float(monthly)  # only to size the term; amounts are computed exactly afterwards
    n = -math.log(1 - principal * r / payment) / math.log(1 + r)
    return max(1, min(MAX_MONTHS, math.ceil(n - 1e-9)))


def reschedule_after_prepayment(
    *,
    balance: int,
    annual_rate: Any,
    remaining_months: int,
    method: str,
    last_due: dt.date,
    regular_payment: int,
    mode: str,
    repayment_day: int | None = None,
    regular_principal: int | None = None,
    days_in_year: int = 360,
) -> Schedule:
    """New schedule for the remaining balance after a partial prepayment, from ``last_due``
    (the last due date on or before the prepayment, or the start date).

    ``mode="reduce_payment"`` (减少月供) keeps the remaining term and lowers the installment
    (等额本金: a lower principal per period, balance / remaining periods). ``mode="shorten_term"``
    (缩短期限) keeps the installment (等额本息, monthly or quarterly: ``regular_payment``) or the
    principal per period (等额本金: ``regular_principal``) and ends earlier. For methods that
    repay principal only at maturity (按月/按季付息到期还本, 到期一次还本付息) both modes keep the
    maturity; only the interest falls.
    """
    if mode not in ("reduce_payment", "shorten_term"):
        raise ScheduleError("提前还款方式只能是“缩短期限”或“减少月供”。")
    day = repayment_day or last_due.day
    extra: dict[str, int] = {}
    if mode == "shorten_term":
        if method in ("equal_installment", "equal_installment_quarterly"):
            extra["fixed_payment"] = regular_payment
        elif method == "equal_principal" and regular_principal:
            extra["fixed_principal"] = regular_principal
    return generate(
        principal=balance,
        annual_rate=annual_rate,
        months=remaining_months,
        method=method,
        start=last_due,
        repayment_day=day,
        days_in_year=days_in_year,
        **extra,
    )


# ---------------------------------------------------------------------------------------------
# Rebuilding the rest of a schedule (提前还款 / LPR 重定价): ONE implementation, used by the
# prepayment and repricing services and by the replay engine (a back-valued event replays
# through the same arithmetic the on-time posting used).
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowView:
    """An installment as the rebuilds see it (amounts in fen): what is due and paid."""

    period: int
    due_date: dt.date
    principal_due: int
    interest_due: int
    principal_owed: int
    paid: bool  # 已还清
    paid_on: dt.date | None
    untouched: bool  # not paid, nothing paid on it


@dataclass(frozen=True)
class PrepayFigures:
    """A prepayment on ``on_date``: the unpaid installments not yet due (``future``), their
    principal, the interest period's start (``last_due``), its days and the accrued interest
    on the future principal (actual/360)."""

    future: list[RowView]
    future_principal: int
    last_due: dt.date
    days: int
    accrued_interest: int


PREPAY_DAYS_IN_YEAR = 360


def _rate_days(annual_rate: Any, days: int) -> Fraction:
    """annual rate (percent) × days / 360 as an exact fraction."""
    return Fraction(Decimal(str(annual_rate))) * days / (100 * PREPAY_DAYS_IN_YEAR)


def is_prepayment_row(row: RowView, day: int | None) -> bool:
    """The paid row an earlier prepayment left (due date = its value date, off the repayment
    day): not a period boundary — interest periods and the new schedule keep the scheduled
    due dates (else a second prepayment in the same period would skip a due date)."""
    return (
        day is not None
        and row.paid
        and row.paid_on == row.due_date
        and not same_day(row.due_date, day)
    )


def prepayment_figures(
    rows: Sequence[RowView],
    *,
    on_date: dt.date,
    start: dt.date | None,
    repayment_day: int | None,
    annual_rate: Any,
) -> PrepayFigures:
    """The figures of a prepayment on ``on_date`` (``rows`` in period order)."""
    future: list[RowView] = []
    last_due = start or on_date
    for row in rows:
        if row.due_date <= on_date:
            if not is_prepayment_row(row, repayment_day):
                last_due = max(last_due, row.due_date)
        elif not row.paid:
            future.append(row)
    future_principal = sum(r.principal_owed for r in future)
    days = max((on_date - last_due).days, 0)
    accrued = _half_up_fraction(future_principal * _rate_days(annual_rate, days))
    return PrepayFigures(future, future_principal, last_due, days, accrued)


def _half_up_fraction(value: Fraction) -> int:
    return int((2 * value.numerator + value.denominator) // (2 * value.denominator))


def prepayment_split(figures: PrepayFigures, annual_rate: Any, rest: int) -> tuple[int, int]:
    """(principal, interest) of a prepaid amount ``rest`` beyond what is due: the principal
    plus the interest accrued on that principal only, ``p = floor(R / (1 + rate × days /
    360))``; the whole future principal when ``rest`` covers the payoff."""
    if rest >= figures.future_principal + figures.accrued_interest:
        return figures.future_principal, rest - figures.future_principal
    factor = 1 + _rate_days(annual_rate, figures.days)
    principal = int(Fraction(rest) / factor)  # floor
    return principal, rest - principal


def prepayment_schedule(
    figures: PrepayFigures,
    *,
    balance: int,
    annual_rate: Any,
    method: str,
    mode: str,
    repayment_day: int | None,
) -> Schedule:
    """The schedule of the remaining ``balance`` after a partial prepayment (rules:
    :func:`reschedule_after_prepayment`): the remaining term in months (a bullet loan: the
    months to its maturity), the installment or the principal per period a 缩短期限 keeps."""
    future = figures.future
    if method != "bullet":
        remaining = len(future) * period_months(method)
    else:
        end, begin = future[-1].due_date, figures.last_due
        remaining = max((end.year - begin.year) * 12 + end.month - begin.month, 1)
    # 等额本息 keeps the regular installment (a broken first period is skipped), 等额本金
    # the principal per period
    pick = future[1] if future[0].period == 1 and len(future) > 1 else future[0]
    return reschedule_after_prepayment(
        balance=balance,
        annual_rate=annual_rate,
        remaining_months=remaining,
        method=method,
        last_due=figures.last_due,
        regular_payment=pick.principal_due + pick.interest_due,
        regular_principal=future[0].principal_due,
        mode=mode,
        repayment_day=repayment_day,
    )


def repricing_rebuild(
    rows: Sequence[RowView],
    *,
    business_date: dt.date,
    new_rate: Any,
    method: str,
    repayment_day: int | None,
) -> tuple[int, Schedule] | None:
    """LPR 重定价 on ``business_date``: the period containing the date keeps its interest;
    every later installment (all untouched) is rebuilt from their principal over the same
    number of periods at ``new_rate``. Returns (the current period, the new schedule of the
    periods after it), or None when nothing is rebuilt."""
    current = next((r for r in rows if r.due_date >= business_date), None)
    if current is None:
        return None
    later = [r for r in rows if r.period > current.period]
    if not later or not all(r.untouched for r in later):
        # nothing after the current period (or partly paid ahead): only the rate changes
        return None
    schedule = generate(
        principal=sum(r.principal_due for r in later),
        annual_rate=new_rate,
        months=len(later) * period_months(method),
        method=method,
        start=current.due_date,
        repayment_day=repayment_day,
    )
    return current.period, schedule


def carried_fee(removed_fees: Sequence[int], installment_fee: int) -> int:
    """The ad hoc charges (收费) on installments a rebuild removes: each removed row's fee beyond
    the regular installment fee, carried to the first new row so a charge never disappears."""
    return sum(max(f - installment_fee, 0) for f in removed_fees)
