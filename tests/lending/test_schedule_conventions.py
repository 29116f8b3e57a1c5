"""Issue 18 item 10: schedule conventions — the published calculator figures, 等额本金 rounding
and shorten-term, month-end start dates, broken days of 到期一次还本付息, the quarterly methods."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.lending.rates.repricing import floating_rate, is_repricing_date, next_repricing_date
from credo.lending.schedule import (
    METHOD_LABELS,
    METHODS,
    ScheduleError,
    add_months,
    annuity_payment,
    fen_to_str,
    generate,
    period_months,
    reschedule_after_prepayment,
    same_day,
    whole_months_and_days,
)

START = dt.date(2026, 1, 15)


# ---------------------------------------------------------------- published calculator figures


def test_equal_principal_bank_calculator_figures():
    """1,000,000 yuan, 4.9 %, 30 years 等额本金 — the figures of the banks' 房贷计算器
    (首月月供 6861.11, 每月递减 11.34, 总利息 737041.67)."""
    s = generate(
        principal=100_000_000, annual_rate="4.9", months=360, method="equal_principal", start=START
    )
    rows = s.installments
    assert fen_to_str(rows[0].payment) == "6861.11"
    assert fen_to_str(rows[0].principal) == "2777.78"  # P / n half-up, not truncated
    assert fen_to_str(rows[0].interest) == "4083.33"
    assert fen_to_str(rows[0].payment - rows[1].payment) == "11.34"
    assert fen_to_str(s.total_interest) == "737041.67"
    assert sum(s.principals) == 100_000_000 and s.balances[-1] == 0
    assert len(set(s.principals[:-1])) == 1
    # every month's payment falls by P/n × r = 11.342… (11.34 or 11.35 after rounding)
    drops = {a.payment - b.payment for a, b in zip(rows[:-2], rows[1:-1], strict=True)}
    assert drops <= {1134, 1135}


def test_equal_installment_bank_calculator_figures():
    s = generate(
        principal=100_000_000,
        annual_rate="4.9",
        months=360,
        method="equal_installment",
        start=START,
    )
    assert fen_to_str(s.installments[0].payment) == "5307.27"
    assert fen_to_str(s.total_interest) == "910615.12"


def test_tiny_principal_never_overshoots():
    # 1.79 yuan over 360 months: 179/360 = 0.497 → 0 (floor and half-up agree) …
    s = generate(principal=179, annual_rate="5", months=360, method="equal_principal", start=START)
    assert all(p >= 0 for p in s.principals) and min(s.balances) >= 0 and sum(s.principals) == 179
    # … 2.70 yuan over 4 months: half-up 0.68 × 3 = 2.04 < 2.70, fine; 0.05 yuan over 9 months:
    # half-up 0.01 × 8 = 0.08 > 0.05 → truncated to 0 so the balance never goes below 0.
    s = generate(principal=5, annual_rate="5", months=9, method="equal_principal", start=START)
    assert s.principals == [0] * 8 + [5] and min(s.balances) >= 0
    s = generate(principal=17, annual_rate="5", months=12, method="equal_principal", start=START)
    assert all(p >= 0 for p in s.principals) and min(s.balances) >= 0 and s.balances[-1] == 0


# ---------------------------------------------------------------- 等额本金 shorten vs reduce


def test_equal_principal_shorten_keeps_principal_reduce_keeps_term():
    s = generate(
        principal=12_000_000, annual_rate="6", months=24, method="equal_principal", start=START
    )
    after6 = s.installments[5]
    balance = after6.balance - 3_000_000
    kwargs = {
        "balance": balance,
        "annual_rate": "6",
        "remaining_months": 18,
        "method": "equal_principal",
        "last_due": after6.due_date,
        "regular_payment": 0,
        "regular_principal": s.principals[0],
    }
    shorter = reschedule_after_prepayment(mode="shorten_term", **kwargs)
    lower = reschedule_after_prepayment(mode="reduce_payment", **kwargs)
    assert s.principals[0] == 500_000
    assert len(lower.installments) == 18 and lower.principals[0] < 500_000
    assert shorter.principals[:-1] == [500_000] * (len(shorter.principals) - 1)
    assert len(shorter.installments) == 12  # 60,000 left at 5,000 a month
    assert sum(shorter.principals) == sum(lower.principals) == balance
    assert shorter.total_interest < lower.total_interest
    assert shorter.due_dates[0] == lower.due_dates[0] == dt.date(2026, 8, 15)


def test_equal_principal_shorten_with_remainder():
    s = reschedule_after_prepayment(
        balance=1_050_000,
        annual_rate="6",
        remaining_months=10,
        method="equal_principal",
        last_due=START,
        regular_payment=0,
        regular_principal=200_000,
        mode="shorten_term",
    )
    assert s.principals == [200_000] * 5 + [50_000]


# ---------------------------------------------------------------- month-end start dates


def test_same_day_recognises_clamped_month_end():
    assert same_day(dt.date(2026, 2, 28), 31) and same_day(dt.date(2026, 2, 28), 29)
    assert same_day(dt.date(2026, 4, 30), 31) and same_day(dt.date(2028, 2, 29), 30)
    assert not same_day(dt.date(2028, 2, 28), 29)  # a leap February has a 29th
    assert not same_day(dt.date(2026, 3, 30), 31) and not same_day(dt.date(2026, 2, 27), 28)


@pytest.mark.parametrize(
    ("start", "day"),
    [
        (dt.date(2026, 2, 28), 31),
        (dt.date(2026, 4, 30), 31),
        (dt.date(2026, 2, 28), 29),
        (dt.date(2026, 2, 28), 30),
    ],
)
def test_no_extra_day_from_a_clamped_due_date(start, day):
    """Rescheduling from a clamped due date (a loan started on the 29th–31st) is a whole
    month: no broken period of 31 days at actual/360."""
    s = generate(
        principal=1_000_000,
        annual_rate="12",
        months=3,
        method="equal_principal",
        start=start,
        repayment_day=day,
    )
    assert s.installments[0].interest == 10_000  # 10,000 × 1 % — a whole month
    assert s.installments[0].due_date == add_months(start, 1, day)
    assert [d.day for d in s.due_dates] == [
        min(day, add_months(start, k, day).day) for k in (1, 2, 3)
    ]


def test_started_on_31st_keeps_month_end_dates():
    s = generate(
        principal=1_200_000,
        annual_rate="6",
        months=4,
        method="equal_installment",
        start=dt.date(2026, 1, 31),
        repayment_day=31,
    )
    assert [d.isoformat() for d in s.due_dates] == [
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
        "2026-05-31",
    ]
    assert s.installments[0].interest == 6000  # whole month, like a loan without repayment day


# ---------------------------------------------------------------- bullet broken days


def test_bullet_without_repayment_day_is_whole_months():
    s = generate(principal=10_000_000, annual_rate="5", months=6, method="bullet", start=START)
    assert s.installments[0].interest == 250_000


def test_bullet_broken_days_after():
    # 2026-01-15 → 2027-01-20: 12 whole months + 5 days (actual/360)
    s = generate(
        principal=10_000_000,
        annual_rate="6",
        months=12,
        method="bullet",
        start=START,
        repayment_day=20,
    )
    assert s.due_dates[0] == dt.date(2027, 1, 20)
    # 100,000 × 6 % × (12/12 + 5/360) = 6,000 + 83.33
    assert fen_to_str(s.installments[0].interest) == "6083.33"


def test_bullet_broken_days_before():
    # 2026-01-15 → 2027-01-10: 11 whole months (to 2026-12-15) + 26 days
    s = generate(
        principal=10_000_000,
        annual_rate="6",
        months=12,
        method="bullet",
        start=START,
        repayment_day=10,
        days_in_year=365,
    )
    assert s.due_dates[0] == dt.date(2027, 1, 10)
    assert whole_months_and_days(START, dt.date(2027, 1, 10)) == (11, 26)
    # 100,000 × 6 % × (11/12 + 26/365) = 5,500 + 427.397… = 5,927.40
    assert fen_to_str(s.installments[0].interest) == "5927.40"


def test_whole_months_and_days_month_end():
    assert whole_months_and_days(dt.date(2026, 1, 31), dt.date(2026, 2, 28)) == (1, 0)
    assert whole_months_and_days(dt.date(2026, 1, 31), dt.date(2026, 3, 30)) == (1, 30)
    assert whole_months_and_days(dt.date(2026, 1, 15), dt.date(2026, 1, 15)) == (0, 0)


# ---------------------------------------------------------------- new methods


def test_method_labels():
    assert set(METHODS) == set(METHOD_LABELS)
    assert METHOD_LABELS["interest_only"] == "按月付息到期还本（先息后本）"
    assert METHOD_LABELS["interest_quarterly"] == "按季付息到期还本"
    assert period_months("interest_quarterly") == period_months("equal_installment_quarterly") == 3
    assert period_months("equal_principal") == 1


def test_interest_quarterly_table():
    s = generate(
        principal=10_000_000, annual_rate="6", months=12, method="interest_quarterly", start=START
    )
    assert [(i.due_date.isoformat(), i.principal, i.interest) for i in s.installments] == [
        ("2026-04-15", 0, 150_000),
        ("2026-07-15", 0, 150_000),
        ("2026-10-15", 0, 150_000),
        ("2027-01-15", 10_000_000, 150_000),
    ]


def test_interest_quarterly_broken_first_period():
    s = generate(
        principal=10_000_000,
        annual_rate="7.2",
        months=6,
        method="interest_quarterly",
        start=dt.date(2026, 1, 10),
        repayment_day=20,
    )
    # first due 2026-04-20: 100 days × 100,000 × 7.2 % / 360 = 2,000.00
    assert s.due_dates[0] == dt.date(2026, 4, 20) and s.due_dates[1] == dt.date(2026, 7, 20)
    assert s.installments[0].interest == 200_000
    assert s.installments[1].interest == 180_000


def test_equal_installment_quarterly_table():
    s = generate(
        principal=100_000_000,
        annual_rate="6",
        months=12,
        method="equal_installment_quarterly",
        start=START,
    )
    # quarterly rate 1.5 %, 4 periods: A = 1,000,000 × 0.015 × 1.015⁴ / (1.015⁴ − 1) = 259,444.786 → 259,444.79
    assert fen_to_str(s.installment_amount) == "259444.79"
    assert [d.isoformat() for d in s.due_dates] == [
        "2026-04-15",
        "2026-07-15",
        "2026-10-15",
        "2027-01-15",
    ]
    assert s.installments[0].interest == 1_500_000
    assert sum(s.principals) == 100_000_000 and s.balances[-1] == 0


@pytest.mark.parametrize("method", ["interest_quarterly", "equal_installment_quarterly"])
def test_quarterly_term_multiple_of_three(method):
    with pytest.raises(ScheduleError, match="3 个月的整数倍"):
        generate(principal=100_000, annual_rate="5", months=10, method=method, start=START)


def test_quarterly_installment_matches_numpy_financial():
    ours = annuity_payment(50_000_000, Fraction(Decimal("4.35")) / 400, 20)
    theirs = -npf.pmt(4.35 / 400, 20, 50_000_000)
    assert abs(ours - theirs) <= 0.5


def test_quarterly_shorten_term_keeps_payment():
    s = generate(
        principal=10_000_000,
        annual_rate="6",
        months=36,
        method="equal_installment_quarterly",
        start=START,
    )
    after = s.installments[3]
    kwargs = {
        "balance": after.balance - 2_000_000,
        "annual_rate": "6",
        "remaining_months": 24,
        "method": "equal_installment_quarterly",
        "last_due": after.due_date,
        "regular_payment": s.installment_amount,
    }
    shorter = reschedule_after_prepayment(mode="shorten_term", **kwargs)
    lower = reschedule_after_prepayment(mode="reduce_payment", **kwargs)
    assert len(lower.installments) == 8 and len(shorter.installments) < 8
    assert shorter.installments[0].payment == s.installment_amount
    assert shorter.due_dates[0] == add_months(after.due_date, 3)


# ---------------------------------------------------------------- properties, every method

amounts = st.integers(min_value=1, max_value=10**12)
rates = st.decimals(min_value=0, max_value=36, places=2)
starts = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31))


@given(
    amounts,
    rates,
    st.integers(1, 120),
    st.sampled_from(METHODS),
    starts,
    st.none() | st.integers(1, 31),
)
@settings(max_examples=400, deadline=None)
def test_properties_every_method(principal, rate, periods, method, start, day):
    step = period_months(method)
    months = min(periods * step, 600)
    s = generate(
        principal=principal,
        annual_rate=rate,
        months=months,
        method=method,
        start=start,
        repayment_day=day,
    )
    assert sum(s.principals) == principal
    assert all(b >= 0 for b in s.balances) and s.balances[-1] == 0
    assert all(p >= 0 for p in s.principals) and all(i >= 0 for i in s.interests)
    assert all(a < b for a, b in zip(s.due_dates, s.due_dates[1:], strict=False))
    expected = 1 if method == "bullet" else months // step
    if method.startswith("equal_installment"):  # a tiny loan's rounded-up A may end it early
        assert len(s.installments) <= expected
    else:
        assert len(s.installments) == expected
    if method == "equal_principal" and months > 1:
        assert len(set(s.principals[:-1])) == 1
        # the balance after k periods never drifts more than k × ½ fen from P × (n − k) / n
        even = s.principals[0]
        assert abs(even * months - principal) <= max(months // 2, principal)
    if method in ("interest_only", "interest_quarterly"):
        assert s.principals[:-1] == [0] * (len(s.principals) - 1)
    if day is not None and method != "bullet":
        assert all(d.day == min(day, add_months(d, 0, 31).day) for d in s.due_dates)


@given(
    st.integers(min_value=100_000, max_value=10**11),
    rates,
    st.integers(2, 240),
    starts,
    st.integers(1, 31),
)
@settings(max_examples=200, deadline=None)
def test_equal_principal_shorten_properties(balance, rate, months, last_due, day):
    regular = -(-balance // months) + 17
    s = reschedule_after_prepayment(
        balance=balance,
        annual_rate=rate,
        remaining_months=months,
        method="equal_principal",
        last_due=last_due,
        regular_payment=0,
        regular_principal=regular,
        mode="shorten_term",
        repayment_day=day,
    )
    assert sum(s.principals) == balance and s.balances[-1] == 0
    assert all(p == regular for p in s.principals[:-1]) and 0 < s.principals[-1] <= regular
    assert len(s.installments) <= months


# ---------------------------------------------------------------- LPR repricing dates


def test_floating_rate():
    assert floating_rate(Decimal("3.00"), 45) == Decimal("3.45")
    assert floating_rate(Decimal("3.50"), -20) == Decimal("3.30")
    assert floating_rate(Decimal("0.10"), -50) == Decimal("0")


def test_repricing_dates():
    start = dt.date(2025, 1, 31)
    assert is_repricing_date("annual_jan1", start, dt.date(2026, 1, 1))
    assert not is_repricing_date("annual_jan1", start, dt.date(2026, 1, 2))
    assert is_repricing_date("anniversary", start, dt.date(2026, 1, 31))
    assert not is_repricing_date("anniversary", start, dt.date(2025, 7, 31))
    assert is_repricing_date("monthly", start, dt.date(2025, 2, 28))
    assert is_repricing_date("monthly", start, dt.date(2025, 4, 30))
    assert not is_repricing_date("monthly", start, dt.date(2025, 4, 29))
    assert not is_repricing_date("monthly", start, start)
    leap = dt.date(2024, 2, 29)
    assert is_repricing_date("anniversary", leap, dt.date(2025, 2, 28))
    assert next_repricing_date("annual_jan1", start, dt.date(2025, 6, 1)) == dt.date(2026, 1, 1)
    assert next_repricing_date("anniversary", start, dt.date(2025, 6, 1)) == dt.date(2026, 1, 31)
    assert next_repricing_date("monthly", start, dt.date(2025, 2, 28)) == dt.date(2025, 3, 31)
