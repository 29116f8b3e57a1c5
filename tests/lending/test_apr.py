"""年化利率 (IRR method, 中国人民银行公告〔2021〕第3号): pure calculations, no database.

Known answers are checked against numpy_financial's IRR (an independent implementation:
polynomial roots), and against flows written out by hand, never against this module itself.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from credo.lending.pricing.apr import (
    Apr,
    AprError,
    CashFlow,
    apr_from_dated,
    irr,
    schedule_apr,
    schedule_cash_flows,
    xirr,
)
from credo.lending.schedule import METHODS, generate, period_months

START = dt.date(2026, 1, 15)


def _npf_apr(flows: list[int], per_year: float) -> float:
    return float(npf.irr(flows)) * per_year * 100


def test_issue_example_interest_only_fee_deducted():
    """Issue 20: a 1 % fee, 118,800 received of 120,000, interest charged on 120,000 → 14.09 %.
    Terms reconstructed: 按月付息到期还本 (先息后本), 10 % a year, 3 months — interest 1,000 a
    month on the full 120,000, the principal with the last payment."""
    flows = [-11_880_000, 100_000, 100_000, 12_100_000]  # written out by hand, in fen
    expected = _npf_apr(flows, 12)
    assert f"{expected:.2f}" == "14.09"
    schedule = generate(
        principal=12_000_000,
        annual_rate=Decimal("10"),
        months=3,
        method="interest_only",
        start=START,
    )
    apr = schedule_apr(schedule, upfront_fee=120_000)
    assert apr.percent_str == "14.09"
    assert abs(float(apr.percent) - expected) < 1e-9
    monthly = float(npf.irr(flows))
    assert abs(float(apr.effective_percent) - ((1 + monthly) ** 12 - 1) * 100) < 1e-9
    assert apr.effective_percent_str == "15.04"


def test_shared_test_book_loan_equal_installment():
    """The test book's loan (120,000 at 12 %, 12 months 等额本息, 1 % fee deducted): 13.91 %."""
    schedule = generate(
        principal=12_000_000,
        annual_rate=Decimal("12"),
        months=12,
        method="equal_installment",
        start=START,
    )
    payments = [1_066_185] * 11 + [1_066_191]  # the schedule's installments, checked here
    assert [i.payment for i in schedule.installments] == payments
    expected = _npf_apr([-11_880_000, *payments], 12)
    apr = schedule_apr(schedule, upfront_fee=120_000)
    assert apr.percent_str == f"{expected:.2f}" == "13.91"
    assert abs(float(apr.percent) - expected) < 1e-9


def test_fee_with_first_installment_is_cheaper_than_deducted():
    schedule = generate(
        principal=12_000_000,
        annual_rate=Decimal("12"),
        months=12,
        method="equal_installment",
        start=START,
    )
    pays = [i.payment for i in schedule.installments]
    flows = [-12_000_000, pays[0] + 120_000, *pays[1:]]
    apr = schedule_apr(schedule, upfront_fee=120_000, fee_timing="first_installment")
    assert abs(float(apr.percent) - _npf_apr(flows, 12)) < 1e-9
    assert apr.percent < schedule_apr(schedule, upfront_fee=120_000).percent


def test_installment_fee_and_other_charges():
    schedule = generate(
        principal=5_000_000,
        annual_rate=Decimal("8"),
        months=6,
        method="equal_principal",
        start=START,
    )
    pays = [i.payment for i in schedule.installments]
    flows = [-5_000_000] + [p + 5_000 for p in pays]
    flows[3] += 20_000  # a charge in period 3
    apr = schedule_apr(schedule, installment_fee=5_000, other_charges={3: 20_000})
    assert abs(float(apr.percent) - _npf_apr(flows, 12)) < 1e-9


def test_quarterly_periods_per_year_is_four():
    schedule = generate(
        principal=10_000_000,
        annual_rate=Decimal("6"),
        months=12,
        method="equal_installment_quarterly",
        start=START,
    )
    pays = [i.payment for i in schedule.installments]
    apr = schedule_apr(schedule, upfront_fee=100_000)
    assert apr.periods_per_year == 4
    assert abs(float(apr.percent) - _npf_apr([-9_900_000, *pays], 4)) < 1e-9
    assert schedule_apr(schedule).percent_str == "6.00"


def test_bullet_one_period_of_the_whole_term():
    schedule = generate(
        principal=10_000_000, annual_rate=Decimal("9"), months=6, method="bullet", start=START
    )
    # 100,000 + 9 % × 6/12 = 104,500; fee 1,000 deducted: (104,500 / 99,000 − 1) × 2
    apr = schedule_apr(schedule, upfront_fee=100_000)
    assert apr.percent_str == "11.11"
    assert abs(apr.percent - (Decimal(10_450_000) / Decimal(9_900_000) - 1) * 200) < Decimal(
        "1e-20"
    )
    assert schedule_apr(schedule).percent_str == "9.00"


def test_bullet_with_broken_days_is_still_the_contract_rate():
    schedule = generate(
        principal=10_000_000,
        annual_rate=Decimal("9"),
        months=13,
        method="bullet",
        start=START,
        repayment_day=1,
        days_in_year=365,
    )
    assert schedule_apr(schedule, days_in_year=365).percent_str == "9.00"


def test_broken_first_period_against_an_independent_root():
    schedule = generate(
        principal=12_000_000,
        annual_rate=Decimal("12"),
        months=12,
        method="equal_installment",
        start=START,
        repayment_day=5,
    )
    pays = [i.payment for i in schedule.installments]
    days = (schedule.due_dates[0] - START).days
    first = days * 12 / 360

    def npv(i: float) -> float:
        return -11_880_000 + sum(p / (1 + i) ** (first + k) for k, p in enumerate(pays))

    expected = brentq(npv, 1e-6, 1.0) * 1200
    apr = schedule_apr(schedule, upfront_fee=120_000)
    assert abs(float(apr.percent) - expected) < 1e-8
    assert schedule_apr(schedule).percent_str == "12.00"


def test_xirr_matches_an_independent_root():
    dated = [
        (dt.date(2026, 1, 10), -1_000_000),
        (dt.date(2026, 3, 1), 300_000),
        (dt.date(2026, 7, 19), 400_000),
        (dt.date(2027, 2, 3), 420_000),
    ]

    def npv(x: float) -> float:
        return sum(a / (1 + x) ** ((d - dated[0][0]).days / 365) for d, a in dated)

    assert abs(float(xirr(dated)) - brentq(npv, 1e-6, 5.0)) < 1e-12
    apr = apr_from_dated(dated)
    assert abs(float(apr.effective) - brentq(npv, 1e-6, 5.0)) < 1e-12


def test_zero_rate_without_fees_is_zero():
    schedule = generate(
        principal=1_200_000,
        annual_rate=Decimal("0"),
        months=12,
        method="equal_installment",
        start=START,
    )
    assert schedule_apr(schedule).percent_str == "0.00"


@pytest.mark.parametrize(
    "flows",
    [
        [CashFlow(Decimal(0), -100)],
        [CashFlow(Decimal(0), 100), CashFlow(Decimal(1), 50)],
        [CashFlow(Decimal(0), -100), CashFlow(Decimal(1), -50)],
        [CashFlow(Decimal(0), -100), CashFlow(Decimal(1), 0)],
    ],
)
def test_refuses_flows_without_a_rate(flows):
    with pytest.raises(AprError):
        irr(flows)


def test_refuses_a_fee_eating_the_principal():
    schedule = generate(
        principal=100_000, annual_rate=Decimal("5"), months=3, method="bullet", start=START
    )
    with pytest.raises(AprError):
        schedule_cash_flows(schedule, upfront_fee=100_000)
    with pytest.raises(AprError):
        schedule_cash_flows(schedule, fee_timing="later")


def test_percent_str_rounds_half_up():
    assert Apr(Decimal("0.001405"), Decimal(10)).percent_str == "1.41"  # 1.405 → 1.41
    assert Apr(Decimal("0.0014049"), Decimal(10)).percent_str == "1.40"


# ---------------------------------------------------------------- properties


@st.composite
def loans(draw):
    method = draw(st.sampled_from(METHODS))
    step = period_months(method)
    periods = draw(st.integers(min_value=1, max_value=120 // step))
    return {
        "principal": draw(st.integers(min_value=1_000_000, max_value=10**10)),  # 10,000 yuan +
        "annual_rate": Decimal(draw(st.integers(min_value=0, max_value=3600))) / 100,
        "months": periods * step,
        "method": method,
        "start": draw(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31))),
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loans())
def test_without_fees_the_apr_is_the_contract_rate(terms):
    """单利折算 of the IRR of a fee-free schedule is the contract rate, for every method
    (等额本息, 等额本金, 先息后本, 到期一次还本付息 and the quarterly ones): only the rounding of
    installments to the fen separates them, far below the disclosed 0.01 %."""
    schedule = generate(**terms)
    apr = schedule_apr(schedule)
    assert abs(apr.percent - terms["annual_rate"]) < Decimal("0.005")
    assert apr.percent_str == f"{terms['annual_rate']:.2f}"
    if apr.periods_per_year >= 1:  # compounding within a year never lowers the rate
        assert apr.effective >= apr.nominal - Decimal("1e-30")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    loans(),
    st.integers(min_value=0, max_value=500),  # upfront fee in basis points of the principal
    st.integers(min_value=0, max_value=50_000),  # installment fee in fen
    st.sampled_from(["disbursement", "first_installment"]),
)
def test_with_fees_matches_numpy_financial(terms, fee_bp, installment_fee, timing):
    schedule = generate(**terms)
    upfront = terms["principal"] * fee_bp // 10_000
    apr = schedule_apr(
        schedule, upfront_fee=upfront, installment_fee=installment_fee, fee_timing=timing
    )
    pays = [i.payment + installment_fee for i in schedule.installments]
    received = terms["principal"]
    if timing == "disbursement":
        received -= upfront
    else:
        pays[0] += upfront
    if terms["method"] == "bullet":
        per_year = 12 / terms["months"]
    else:
        per_year = 12 / period_months(terms["method"])
    expected = _npf_apr([-received, *pays], per_year)
    assert abs(float(apr.percent) - expected) < 1e-6 * max(1.0, expected)
    if fee_bp or installment_fee:
        assert apr.percent >= terms["annual_rate"] - Decimal("0.005")  # fees never lower it


def test_repayment_day_tells_a_month_end_broken_period_exactly():
    """Start on the 28th with repayment day 31: the schedule charges 31 days for the first
    period (a broken period), though the first due date is the start's monthly date."""
    schedule = generate(
        principal=12_000_000, annual_rate=Decimal("12"), months=12, method="equal_installment",
        start=dt.date(2026, 1, 28), repayment_day=31,
    )  # fmt: skip
    assert schedule_apr(schedule, repayment_day=31).percent_str == "12.00"
