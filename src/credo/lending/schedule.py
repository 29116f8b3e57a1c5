"""Repayment schedules — pure Python, no Django. Amounts are integers of fen.

Rules (the ones a bank engineer will check):

* Monthly rate r = annual rate / 12 (exact rational; ``annual_rate`` is a percentage, 4.9 = 4.9 %).
* Interest of a period = outstanding balance × r, rounded ROUND_HALF_UP to the fen.
* ``equal_installment`` (等额本息): installment A = P·r·(1+r)^n / ((1+r)^n − 1) rounded half-up to
  the fen; principal of a period = A − interest; the last period repays the whole remaining
  balance, so principal sums exactly to P and the final balance is 0. The last installment
  therefore differs from A by the accumulated rounding, at most ((1+r)^n − 1)/r fen (for
  1,000,000 at 4.9 % over 360 months: 5305.19 vs 5307.27).
* ``equal_principal`` (等额本金): principal per period = P / n truncated to the fen (so the
  balance can never reach 0 early), the last period takes the remainder (< n fen more);
  interest on the declining balance.
* ``interest_only`` (先息后本): interest every period, all principal with the last one.
* ``bullet`` (到期一次还本付息): one payment at maturity, interest = P × annual × months / 12.
* Due dates keep the day of the month of the first due date and clamp at month end
  (Jan 31 → Feb 28/29 → Mar 31).
* Broken first period: when a ``repayment_day`` is given and differs from the start day, the first
  due date is that day in the month after the start; its interest is pro rata,
  balance × annual / ``days_in_year`` × actual days (actual/360 by default); the principal track
  is unchanged (the first installment differs from the others only by its interest).
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

METHODS = ("equal_installment", "equal_principal", "interest_only", "bullet")
METHOD_LABELS = {
    "equal_installment": "等额本息",
    "equal_principal": "等额本金",
    "interest_only": "先息后本",
    "bullet": "到期一次还本付息",
}
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


def _check_inputs(
    principal: int, months: int, method: str, repayment_day: int | None, days_in_year: int
) -> None:
    if isinstance(principal, bool) or not isinstance(principal, int) or principal <= 0:
        raise ScheduleError("贷款本金必须大于 0。")
    if method not in METHODS:
        raise ScheduleError(f"不支持的还款方式：{method}")
    if not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise ScheduleError(f"期限应为 1–{MAX_MONTHS} 个月。")
    if repayment_day is not None and not 1 <= repayment_day <= 31:
        raise ScheduleError("还款日应为 1–31。")
    if days_in_year not in (360, 365):
        raise ScheduleError("计息天数只能是 360 或 365。")


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
) -> Schedule:
    """Build a schedule. ``fixed_payment`` (equal_installment only) keeps a given installment
    and lets the term follow from it (used to shorten the term after a prepayment)."""
    _check_inputs(principal, months, method, repayment_day, days_in_year)
    annual = _rate(annual_rate)
    monthly = annual / 1200  # percent → fraction per month
    num, den = monthly.numerator, monthly.denominator

    # Due dates, and the broken first period's interest factor.
    broken_days = 0
    if repayment_day is not None and repayment_day != start.day:
        first_due = add_months(start, 1, repayment_day)
        broken_days = (first_due - start).days
        anchor, anchor_day, offset = first_due, repayment_day, 0
    else:
        anchor, anchor_day, offset = start, start.day, 1

    if method == "bullet":
        due = add_months(anchor, months - 1 + offset, anchor_day)
        interest = _half_up_div(principal * annual.numerator * months, annual.denominator * 1200)
        return Schedule(
            principal, Decimal(str(annual_rate)), method, start, [due], [principal], [interest], [0]
        )

    if fixed_payment is not None:
        if method != "equal_installment":
            raise ScheduleError("固定月供只适用于等额本息。")
        regular = fixed_payment
        if regular * den <= principal * num:  # payment does not even cover the interest
            raise ScheduleError("月供不足以覆盖利息。")
        months = _periods_for_payment(principal, monthly, regular)
    elif method == "equal_installment":
        regular = annuity_payment(principal, monthly, months)
    else:
        regular = 0

    due_dates = DueDates(anchor, anchor_day, offset, months)
    principals: list[int] = []
    interests: list[int] = []
    balances: list[int] = []
    balance = principal
    last = months - 1
    two_num, two_den = 2 * num, 2 * den
    if method == "equal_installment":
        add_p, add_i, add_b = principals.append, interests.append, balances.append
        for _k in range(last):
            interest = (two_num * balance + den) // two_den  # half-up; balance ≥ 0
            part = regular - interest
            if part >= balance:  # a fixed payment that clears the loan early
                break
            balance -= part
            add_p(part)
            add_i(interest)
            add_b(balance)
    elif method == "equal_principal":
        even = principal // months  # floor: never overshoots; the last period takes the rest
        principals = [even] * last
        balances = [principal - even * (k + 1) for k in range(last)]
        interests = [(two_num * b + den) // two_den for b in [principal, *balances[:-1]]][:last]
        balance = principal - even * last
    else:  # interest_only
        interest = (two_num * balance + den) // two_den
        principals = [0] * last
        interests = [interest] * last
        balances = [balance] * last
    # The last period repays whatever is left, so principal sums exactly to the loan amount.
    interests.append((two_num * balance + den) // two_den)
    principals.append(balance)
    balances.append(0)
    due_dates = due_dates.truncated(len(principals))
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
    """The due dates of a schedule: ``add_months(anchor, k + offset, day)`` for k < n.

    A compact, immutable sequence computed on access — a 360-period schedule does not build
    360 date objects unless someone reads them (building them costs more than all the interest
    arithmetic). Indexing, slicing, iteration, ``len`` and equality behave like a list.
    """

    __slots__ = ("_day", "_first", "_n")

    def __init__(self, anchor: dt.date, day: int, offset: int, n: int) -> None:
        self._first = anchor.year * 12 + anchor.month - 1 + offset  # months since year 0
        self._day = day
        self._n = n

    def __len__(self) -> int:
        return self._n

    def _at(self, k: int) -> dt.date:
        year, month0 = divmod(self._first + k, 12)
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
) -> Schedule:
    """New schedule for the remaining balance after a partial prepayment.

    ``mode="reduce_payment"`` keeps the remaining term and lowers the installment;
    ``mode="shorten_term"`` keeps the installment (equal_installment) and ends earlier.
    """
    if mode not in ("reduce_payment", "shorten_term"):
        raise ScheduleError("提前还款方式只能是“缩短期限”或“减少月供”。")
    day = repayment_day or last_due.day
    if mode == "shorten_term" and method == "equal_installment":
        return generate(
            principal=balance,
            annual_rate=annual_rate,
            months=remaining_months,
            method=method,
            start=last_due,
            repayment_day=day,
            fixed_payment=regular_payment,
        )
    return generate(
        principal=balance,
        annual_rate=annual_rate,
        months=remaining_months,
        method=method,
        start=last_due,
        repayment_day=day,
    )
