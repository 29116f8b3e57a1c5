"""综合融资成本上限: the 年化利率 of terms, products and loans, the per-version cap and the
4 × LPR warning.

* Every product version has ``max_apr`` (default 24 %). No loan of the version may cost more:
  the APR (IRR method, all fees, :mod:`credo.lending.pricing.apr`) is checked at product
  publish (the worst corner of the version's ranges), on a draft's fee change, at application,
  at loan creation and at restructuring; a refusal says the APR and the cap in Chinese.
* A warning (never a refusal): an APR above four times the one-year LPR in force — the ceiling
  of judicial protection for private lending (最高人民法院《关于审理民间借贷案件适用法律若干
  问题的规定》2020 修正, 第二十五条). The LPR is read from the LPR table (贷款市场报价利率),
  falling back to the setting ``CREDO_LPR_ONE_YEAR_FALLBACK``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.money import Money
from credo.lending.errors import InvalidLoan
from credo.lending.pricing.apr import (
    FEE_AT_DISBURSEMENT,
    FEE_TIMINGS,
    Apr,
    AprError,
    apr_percent_str,
    schedule_apr,
)
from credo.lending.pricing.selectors import one_year_lpr
from credo.lending.schedule import Schedule, ScheduleError, generate, period_months

DEFAULT_MAX_APR = Decimal("24")
LPR_MULTIPLE = 4


class AprCapExceeded(InvalidLoan):
    code = "apr_cap_exceeded"


def fen(value: Any) -> int:
    """Fen of a MoneyField value: ``Money`` once loaded, the int default on a fresh instance."""
    if isinstance(value, Money):
        return value.fen
    return int(value or 0)


def fee_timing(obj: Any) -> str:
    """When ``obj``'s (product version / loan) upfront fee is paid: at disbursement unless it
    says it is paid with the first installment (``upfront_fee_timing``)."""
    value = str(getattr(obj, "upfront_fee_timing", "") or FEE_AT_DISBURSEMENT)
    return value if value in FEE_TIMINGS else FEE_AT_DISBURSEMENT


def upfront_fee_for(pv: Any, principal: int) -> int:
    """The version's upfront fee on ``principal`` fen (as loan creation computes it)."""
    rate = Decimal(pv.upfront_fee_rate or 0)
    if not rate:
        return 0
    return Money(Money.from_fen(principal).yuan * rate / 100).fen


def terms_apr(
    *,
    principal: int,
    annual_rate: Any,
    months: int,
    method: str,
    start: dt.date | None = None,
    repayment_day: int | None = None,
    upfront_fee: int = 0,
    installment_fee: int = 0,
    timing: str = FEE_AT_DISBURSEMENT,
    other_charges: Mapping[int, int] | None = None,
) -> tuple[Apr, Schedule]:
    """The APR of a loan on these terms (and its schedule), or :class:`InvalidLoan`."""
    try:
        schedule = generate(
            principal=principal,
            annual_rate=annual_rate,
            months=months,
            method=method,
            start=start or clock.today(),
            repayment_day=repayment_day,
        )
        apr = schedule_apr(
            schedule,
            upfront_fee=upfront_fee,
            installment_fee=installment_fee,
            fee_timing=timing,
            other_charges=other_charges,
            repayment_day=repayment_day,
        )
    except (ScheduleError, AprError) as exc:
        raise InvalidLoan(str(exc)) from exc
    return apr, schedule


def version_terms_apr(
    pv: Any,
    *,
    principal: int,
    months: int,
    annual_rate: Any,
    start: dt.date | None = None,
    repayment_day: int | None = None,
) -> Apr:
    """The APR of a loan of ``pv`` with these terms (the version's fees)."""
    apr, _schedule = terms_apr(
        principal=principal,
        annual_rate=annual_rate,
        months=months,
        method=pv.method,
        start=start,
        repayment_day=repayment_day or pv.repayment_day,
        upfront_fee=upfront_fee_for(pv, principal),
        installment_fee=fen(pv.installment_fee),
        timing=fee_timing(pv),
    )
    return apr


def loan_apr(loan: Any) -> Apr:
    """The APR of a loan's contract terms (its own fees; start: the value date, else today)."""
    apr, _schedule = terms_apr(
        principal=fen(loan.principal),
        annual_rate=loan.annual_rate,
        months=loan.months,
        method=loan.method,
        start=loan.start_date,
        repayment_day=loan.repayment_day,
        upfront_fee=fen(loan.upfront_fee),
        installment_fee=fen(loan.installment_fee),
        timing=fee_timing(loan),
    )
    return apr


@dataclass(frozen=True)
class VersionRange:
    """The lowest and highest APR over the corners of a version's ranges."""

    low: Apr
    high: Apr
    high_terms: dict[str, Any]

    @property
    def label(self) -> str:
        if self.low.percent_str == self.high.percent_str:
            return f"{self.high.percent_str}%"
        return f"{self.low.percent_str}%–{self.high.percent_str}%"


def _term_corners(pv: Any) -> list[int]:
    step = period_months(pv.method)
    lo = -(-int(pv.min_months) // step) * step
    hi = int(pv.max_months) // step * step
    if hi < lo:
        raise InvalidLoan(_("期限范围内没有%(m)s可用的期限。") % {"m": pv.get_method_display()})
    return sorted({lo, hi})


def version_range(pv: Any, *, start: dt.date | None = None) -> VersionRange:
    """APR at every corner (amount × term × rate): the fee share is largest on the shortest
    term and, for a fixed installment fee, on the smallest amount."""
    results: list[tuple[Apr, dict[str, Any]]] = []
    for amount in sorted({fen(pv.min_amount), fen(pv.max_amount)}):
        for months in _term_corners(pv):
            for rate in sorted({Decimal(pv.min_rate), Decimal(pv.max_rate)}):
                apr = version_terms_apr(
                    pv, principal=amount, months=months, annual_rate=rate, start=start
                )
                results.append(
                    (apr, {"amount": amount, "months": months, "annual_rate": str(rate)})
                )
    low = min(results, key=lambda r: r[0].percent)[0]
    high, terms = max(results, key=lambda r: r[0].percent)
    return VersionRange(low, high, terms)


def cap_of(pv: Any) -> Decimal:
    value = getattr(pv, "max_apr", None)
    return Decimal(value) if value is not None else DEFAULT_MAX_APR


def refuse_over_cap(apr: Apr, cap: Decimal, *, what: str) -> None:
    """Refuse when the disclosed APR (two decimals) exceeds ``cap`` percent."""
    shown = Decimal(apr.percent_str)
    if shown > cap:
        raise AprCapExceeded(
            _(
                "%(what)s的年化利率（IRR 法，含全部费用，单利折算）为 %(apr)s%%，"
                "超过产品规定的上限 %(cap)s%%，不能办理。请降低利率或费用，或缩小期限、金额范围。"
            )
            % {"what": what, "apr": apr.percent_str, "cap": apr_percent_str(cap)}
        )


def check_version(pv: Any) -> VersionRange:
    """Product publish and a draft's fee change: the worst corner within the cap."""
    rng = version_range(pv)
    terms = rng.high_terms
    what = _("该产品版本（金额 %(a)s 元、期限 %(m)s 个月、年利率 %(r)s%%）") % {
        "a": Money.from_fen(terms["amount"]).format(symbol=False),
        "m": terms["months"],
        "r": Decimal(terms["annual_rate"]).normalize(),
    }
    refuse_over_cap(rng.high, cap_of(pv), what=what)
    return rng


def check_terms_cap(
    pv: Any,
    *,
    principal: int,
    months: int,
    annual_rate: Any,
    repayment_day: int | None = None,
    what: str = "",
) -> Apr:
    """Application and loan creation: the requested terms within the version's cap."""
    apr = version_terms_apr(
        pv, principal=principal, months=months, annual_rate=annual_rate, repayment_day=repayment_day
    )
    refuse_over_cap(apr, cap_of(pv), what=what or _("该笔贷款"))
    return apr


def check_schedule_cap(
    pv: Any,
    schedule: Schedule,
    *,
    installment_fee: int = 0,
    upfront_fee: int = 0,
    other_charges: Mapping[int, int] | None = None,
    what: str = "",
) -> Apr:
    """Restructuring and fee changes on a loan: its new schedule and charges within the cap."""
    try:
        apr = schedule_apr(
            schedule,
            upfront_fee=upfront_fee,
            installment_fee=installment_fee,
            other_charges=other_charges,
        )
    except AprError as exc:
        raise InvalidLoan(str(exc)) from exc
    refuse_over_cap(apr, cap_of(pv), what=what or _("新还款计划"))
    return apr


def check_loan_charges_cap(loan: Any) -> Apr:
    """收费 on a loan: its contract schedule with its fees and every charge not reversed (each
    in the period it is due with; a period past the contract term counts in the last one)
    within the product's cap — an ad hoc fee is a borrowing cost of the 年化利率 too."""
    from credo.lending.models import LoanCharge

    try:
        schedule = generate(
            principal=fen(loan.principal),
            annual_rate=loan.annual_rate,
            months=loan.months,
            method=loan.method,
            start=loan.start_date or clock.today(),
            repayment_day=loan.repayment_day,
        )
    except ScheduleError as exc:
        raise InvalidLoan(str(exc)) from exc
    last = len(schedule.installments)
    charges: dict[int, int] = {}
    for period, amount in LoanCharge.objects.filter(
        loan_id=loan.pk, reversed_at__isnull=True
    ).values_list("due_period", "amount"):
        key = min(max(period or 1, 1), last)
        charges[key] = charges.get(key, 0) + fen(amount)
    try:
        apr = schedule_apr(
            schedule,
            upfront_fee=fen(loan.upfront_fee),
            installment_fee=fen(loan.installment_fee),
            fee_timing=fee_timing(loan),
            other_charges=charges,
            repayment_day=loan.repayment_day,
        )
    except AprError as exc:
        raise InvalidLoan(str(exc)) from exc
    refuse_over_cap(apr, cap_of(loan.product_version), what=_("收费后该贷款"))
    return apr


def lpr_ceiling(on_date: dt.date | None = None) -> tuple[Decimal, Any]:
    lpr = one_year_lpr(on_date or clock.today())
    return lpr.rate * LPR_MULTIPLE, lpr


def lpr_warning(apr: Apr | Decimal | None, on_date: dt.date | None = None) -> str:
    """A warning text when the APR exceeds 4 × the one-year LPR, else ''."""
    if apr is None:
        return ""
    percent = Decimal(apr.percent_str) if isinstance(apr, Apr) else Decimal(apr)
    ceiling, lpr = lpr_ceiling(on_date)
    if percent <= ceiling:
        return ""
    return _(
        "年化利率 %(apr)s%% 超过一年期 LPR（%(lpr)s%%）的 4 倍（%(limit)s%%），"
        "超出部分可能不受司法保护。"
    ) % {
        "apr": apr_percent_str(percent),
        "lpr": apr_percent_str(lpr.rate),
        "limit": apr_percent_str(ceiling),
    }


@dataclass(frozen=True)
class Disclosure:
    """What a page shows: the disclosed APR, the compound figure, the cap and a warning."""

    apr: Apr
    cap: Decimal | None = None
    warning: str = ""

    @property
    def percent(self) -> str:
        return self.apr.percent_str

    @property
    def effective(self) -> str:
        return self.apr.effective_percent_str

    @property
    def over_cap(self) -> bool:
        return self.cap is not None and Decimal(self.apr.percent_str) > self.cap


def disclose(apr: Apr, *, cap: Decimal | None = None, on_date: dt.date | None = None) -> Disclosure:
    return Disclosure(apr=apr, cap=cap, warning=lpr_warning(apr, on_date))


def loan_disclosure(loan: Any) -> Disclosure | None:
    try:
        apr = loan_apr(loan)
    except InvalidLoan:
        return None
    return disclose(apr, cap=cap_of(loan.product_version))


def quote_disclosure(
    schedule: Schedule,
    *,
    upfront_fee: int = 0,
    installment_fee: int = 0,
    timing: str = FEE_AT_DISBURSEMENT,
    cap: Decimal | None = None,
    repayment_day: int | None = None,
) -> Disclosure:
    """A quote's (试算) APR with the 4 × LPR warning; raises :class:`AprError`."""
    apr = schedule_apr(
        schedule,
        upfront_fee=upfront_fee,
        installment_fee=installment_fee,
        fee_timing=timing,
        repayment_day=repayment_day,
    )
    return disclose(apr, cap=cap, on_date=schedule.start)
