"""年化利率 (APR) by the IRR method — pure Python, no Django. Amounts are integers of fen.

Why: 中国人民银行公告〔2021〕第3号 requires every lender to show the annualized rate of *all*
borrowing costs (interest, fees, service charges …) prominently wherever a rate is shown
(marketing, quotes, contracts), computed by the internal rate of return (IRR) method and
annualized by simple multiplication (单利折算). Its annex gives the formula:

    Σ_k  A_k / (1 + i)^k  =  L        (i: periodic IRR, A_k: the borrower's k-th payment,
                                        L: the amount the borrower actually receives)
    年化利率 = i × periods per year     (e.g. monthly: i × 12)

Conventions here (documented for users in docs/lending.md):

* **Cash flows are the borrower's real ones.** At disbursement the borrower receives the
  principal *minus* anything paid then (an upfront fee paid at disbursement — the principal
  is disbursed in full and the borrower pays the fee separately, or, on loans disbursed
  before migration 0022, the fee deducted from it: the same flows).
  Each scheduled payment counts in full: principal + interest + installment fee + any other
  charge of that period. An upfront fee paid with the first installment is added to it.
* **Time is counted in periods** of the repayment method (a month; a quarter for the quarterly
  methods). A schedule whose first period is a whole period is regular: payment k is at time k.
  A broken (irregular) first period — a fixed repayment day other than the start day — is
  counted by days: the first payment is at ``days × periods_per_year / days_in_year`` periods
  (the same actual/360 or actual/365 day count the schedule charged its interest with), the
  following ones one period apart.
* **到期一次还本付息** has a single period, the whole term: periods per year = 1 / term in years
  (months / 12, plus broken days / days_in_year when the maturity is on a repayment day other
  than the start day), so the APR of a fee-free bullet loan is its contract rate.
* The disclosed figure is the **nominal** rate ``i × periods per year`` (单利折算); the
  **effective** annual rate ``(1 + i)^periods per year − 1`` (复利折算) is given alongside.
  Without fees both schedules' interest is the contract rate on the outstanding balance, so
  the nominal APR equals the contract rate up to the rounding of each installment to the fen.
* Any other set of dated flows (a quote with odd dates) can use :func:`xirr` (XIRR-style:
  time = days / 365, the effective annual rate) and :func:`apr_from_dated`.

Root finding: the net present value of a conventional flow (one outflow, then inflows) is
strictly decreasing in i, so the root is unique; it is bracketed and found by Newton's method
safeguarded by bisection, in ``Decimal`` with 40 digits, to 1e-24 — far below the 0.005 %
that the two-decimal disclosure can show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from credo.lending.schedule import Schedule, period_months, same_day, whole_months_and_days

__all__ = [
    "Apr",
    "AprError",
    "CashFlow",
    "apr_from_dated",
    "apr_from_payments",
    "apr_percent_str",
    "irr",
    "periods_per_year_of",
    "schedule_apr",
    "schedule_cash_flows",
    "xirr",
]

PRECISION = 40
TOLERANCE = Decimal("1e-24")
MAX_ITERATIONS = 400
TWO_PLACES = Decimal("0.01")
FEE_AT_DISBURSEMENT = "disbursement"
FEE_WITH_FIRST_INSTALLMENT = "first_installment"
FEE_TIMINGS = (FEE_AT_DISBURSEMENT, FEE_WITH_FIRST_INSTALLMENT)


class AprError(ValueError):
    """The flows have no internal rate of return (message shown to users, Chinese)."""


@dataclass(frozen=True, slots=True)
class CashFlow:
    """One flow from the lender's side: negative = paid to the borrower, positive = paid by
    the borrower; ``time`` in periods from disbursement (may be fractional)."""

    time: Decimal
    amount: int


@dataclass(frozen=True, slots=True)
class Apr:
    """The IRR per period and how many periods make a year."""

    periodic_rate: Decimal
    periods_per_year: Decimal

    @property
    def nominal(self) -> Decimal:
        """单利折算: periodic IRR × periods per year, a fraction (0.1409 = 14.09 %)."""
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return self.periodic_rate * self.periods_per_year

    @property
    def percent(self) -> Decimal:
        """The disclosed 年化利率 in percent, unrounded."""
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return self.nominal * 100

    @property
    def effective(self) -> Decimal:
        """复利折算: (1 + i)^periods per year − 1, a fraction."""
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return (1 + self.periodic_rate) ** self.periods_per_year - 1

    @property
    def effective_percent(self) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return self.effective * 100

    @property
    def percent_str(self) -> str:
        """Two decimals, half-up: ``"14.09"``."""
        return apr_percent_str(self.percent)

    @property
    def effective_percent_str(self) -> str:
        return apr_percent_str(self.effective_percent)


def apr_percent_str(value: Decimal) -> str:
    return str(value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP))


def _check(flows: Sequence[CashFlow]) -> None:
    if len(flows) < 2:
        raise AprError("现金流不足，无法计算年化利率。")
    if flows[0].amount >= 0 or any(f.amount < 0 for f in flows[1:]):
        raise AprError("现金流须为一笔放款后接若干笔还款，无法计算年化利率。")
    if sum(f.amount for f in flows[1:]) <= 0:
        raise AprError("没有还款现金流，无法计算年化利率。")
    if any(f.time <= 0 for f in flows[1:]) or flows[0].time != 0:
        raise AprError("还款时间须晚于放款。")


def _npv(
    flows: Sequence[CashFlow], rate: Decimal, shift: Decimal | None
) -> tuple[Decimal, Decimal]:
    """(NPV, dNPV/drate) at ``rate``. When every later flow is ``shift`` + a whole number of
    periods, the sum runs by repeated multiplication and one power (a broken first period
    costs no more than a regular schedule); otherwise each flow takes its own power."""
    base = 1 + rate
    value = Decimal(flows[0].amount)
    if shift is None:
        slope = Decimal(0)
        for f in flows[1:]:
            discount = base ** (-f.time)
            value += f.amount * discount
            slope -= f.time * f.amount * discount / base
        return value, slope
    v = 1 / base
    power = Decimal(1)
    k = 0
    total = Decimal(0)
    total_slope = Decimal(0)
    for f in flows[1:]:
        t = int(f.time - shift)
        while k < t:
            power *= v
            k += 1
        total += f.amount * power
        total_slope -= t * f.amount * power * v
    if shift == 0:
        return value + total, total_slope
    factor = base ** (-shift)
    return value + factor * total, factor * total_slope - shift * factor * total / base


def _common_shift(flows: Sequence[CashFlow]) -> Decimal | None:
    """The fractional offset shared by all later flows' times, or None when they differ."""
    shifts = {f.time - f.time.to_integral_value(rounding=ROUND_FLOOR) for f in flows[1:]}
    return shifts.pop() if len(shifts) == 1 else None


def irr(flows: Sequence[CashFlow]) -> Decimal:
    """The rate i per period with Σ amount × (1 + i)^(−time) = 0 (a fraction)."""
    _check(flows)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        shift = _common_shift(flows)
        lo, hi = Decimal("-0.999999"), Decimal(1)
        # NPV is decreasing in the rate: widen the upper end until NPV < 0.
        while _npv(flows, hi, shift)[0] > 0:
            lo, hi = hi, hi * 2
            if hi > 10**6:
                raise AprError("年化利率过高，无法计算。")
        if _npv(flows, lo, shift)[0] < 0:
            raise AprError("年化利率低于 −100%，无法计算。")
        rate = Decimal(0) if lo < 0 < hi else (lo + hi) / 2
        for _ in range(MAX_ITERATIONS):
            value, slope = _npv(flows, rate, shift)
            if value == 0:
                return rate
            if value > 0:
                lo = rate
            else:
                hi = rate
            step = value / slope if slope else Decimal(0)
            candidate = rate - step
            if not lo < candidate < hi:  # Newton left the bracket: bisect instead
                candidate = (lo + hi) / 2
            if abs(candidate - rate) < TOLERANCE or hi - lo < TOLERANCE:
                return candidate
            rate = candidate
        return rate


def _periods_per_year(months_per_period: Fraction | int) -> Decimal:
    value = Fraction(12) / Fraction(months_per_period)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return Decimal(value.numerator) / Decimal(value.denominator)


def _regular_first_period(schedule: Schedule, repayment_day: int | None = None) -> bool:
    """The first period is a whole period. With the ``repayment_day`` the schedule was
    generated with, exactly as :func:`credo.lending.schedule.generate` decides; without it,
    from the dates (the first due date falls on the start day, clamped at month end)."""
    if repayment_day is not None:
        return same_day(schedule.start, repayment_day)
    start, first = schedule.start, schedule.due_dates[0]
    return same_day(first, start.day) or same_day(start, first.day)


def schedule_cash_flows(
    schedule: Schedule,
    *,
    upfront_fee: int = 0,
    installment_fee: int = 0,
    fee_timing: str = FEE_AT_DISBURSEMENT,
    other_charges: Mapping[int, int] | None = None,
    days_in_year: int = 360,
    repayment_day: int | None = None,
) -> tuple[list[CashFlow], Decimal]:
    """The borrower's cash flows of ``schedule`` and the periods per year.

    ``upfront_fee``: paid at disbursement (``fee_timing="disbursement"``; historically deducted)
    or with the first installment (``"first_installment"``); ``installment_fee``: per
    installment; ``other_charges``: {period number: fen} of any other scheduled charge;
    ``repayment_day``: the one the schedule was generated with (tells a broken first period
    exactly; without it the dates tell)."""
    if fee_timing not in FEE_TIMINGS:
        raise AprError(f"不支持的手续费收取时点：{fee_timing}")
    if min(upfront_fee, installment_fee) < 0 or any(v < 0 for v in (other_charges or {}).values()):
        raise AprError("费用不能为负数。")
    received = schedule.principal - (upfront_fee if fee_timing == FEE_AT_DISBURSEMENT else 0)
    if received <= 0:
        raise AprError("实际到手金额须大于 0。")
    charges = dict(other_charges or {})
    step = period_months(schedule.method)
    installments = schedule.installments
    flows = [CashFlow(Decimal(0), -received)]
    if schedule.method == "bullet":
        due = installments[0].due_date
        if _regular_first_period(schedule, repayment_day):
            term = Fraction(whole_months_and_days(schedule.start, due)[0] or 1)
        else:
            whole, days = whole_months_and_days(schedule.start, due)
            term = Fraction(whole) + Fraction(days * 12, days_in_year)
        ppy = _periods_per_year(term)
        first = installments[0]
        amount = first.payment + installment_fee + charges.get(1, 0)
        if fee_timing == FEE_WITH_FIRST_INSTALLMENT:
            amount += upfront_fee
        return [*flows, CashFlow(Decimal(1), amount)], ppy
    ppy = _periods_per_year(step)
    if _regular_first_period(schedule, repayment_day):
        offset = Decimal(0)
    else:
        days = (installments[0].due_date - schedule.start).days
        with localcontext() as ctx:
            ctx.prec = PRECISION
            offset = Decimal(days) * ppy / Decimal(days_in_year) - 1
    for inst in installments:
        amount = inst.payment + installment_fee + charges.get(inst.period, 0)
        if inst.period == 1 and fee_timing == FEE_WITH_FIRST_INSTALLMENT:
            amount += upfront_fee
        flows.append(CashFlow(Decimal(inst.period) + offset, amount))
    return flows, ppy


def schedule_apr(
    schedule: Schedule,
    *,
    upfront_fee: int = 0,
    installment_fee: int = 0,
    fee_timing: str = FEE_AT_DISBURSEMENT,
    other_charges: Mapping[int, int] | None = None,
    days_in_year: int = 360,
    repayment_day: int | None = None,
) -> Apr:
    """年化利率 of ``schedule`` with the given fees (see the module docstring)."""
    flows, ppy = schedule_cash_flows(
        schedule,
        upfront_fee=upfront_fee,
        installment_fee=installment_fee,
        fee_timing=fee_timing,
        other_charges=other_charges,
        days_in_year=days_in_year,
        repayment_day=repayment_day,
    )
    return Apr(irr(flows), ppy)


def xirr(dated: Sequence[tuple[dt.date, int]], *, days_in_year: int = 365) -> Decimal:
    """Effective annual rate x with Σ amount × (1 + x)^(−days / days_in_year) = 0 (XIRR);
    the first flow is the disbursement (negative), dated flows in any order after it."""
    if not dated:
        raise AprError("现金流不足，无法计算年化利率。")
    origin = dated[0][0]
    with localcontext() as ctx:
        ctx.prec = PRECISION
        flows = [
            CashFlow(Decimal((day - origin).days) / Decimal(days_in_year), amount)
            for day, amount in dated
        ]
    return irr(flows)


def apr_from_dated(
    dated: Sequence[tuple[dt.date, int]],
    *,
    periods_per_year: int = 12,
    days_in_year: int = 365,
) -> Apr:
    """年化利率 of irregularly dated flows: the XIRR's equivalent periodic rate
    (1 + x)^(1 / periods_per_year) − 1, disclosed × periods per year like a schedule's."""
    annual = xirr(dated, days_in_year=days_in_year)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        ppy = Decimal(periods_per_year)
        periodic = (1 + annual) ** (1 / ppy) - 1
    return Apr(periodic, ppy)


def apr_from_payments(received: int, payments: Sequence[int], periods_per_year: Decimal) -> Apr:
    """年化利率 of ``received`` fen followed by one payment per period (a stored schedule, a
    contract's table), ``periods_per_year`` of them a year."""
    flows = [CashFlow(Decimal(0), -received)]
    flows += [CashFlow(Decimal(k), amount) for k, amount in enumerate(payments, start=1)]
    return Apr(irr(flows), Decimal(periods_per_year))


def periods_per_year_of(method: str, months: int) -> Decimal:
    """Periods a year of ``method`` (到期一次还本付息: one period of ``months``)."""
    if method == "bullet":
        return _periods_per_year(months)
    return _periods_per_year(period_months(method))
