"""The schedule engine: exact tables, properties, and a cross-check against numpy-financial."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.lending.schedule import (
    ScheduleError,
    add_months,
    annuity_payment,
    fen_to_str,
    generate,
    reschedule_after_prepayment,
)

START = dt.date(2026, 1, 15)


def rows(schedule):
    return [
        (
            i.period,
            i.due_date.isoformat(),
            fen_to_str(i.payment),
            fen_to_str(i.principal),
            fen_to_str(i.interest),
            fen_to_str(i.balance),
        )
        for i in schedule.installments
    ]


def test_mortgage_reference_figure():
    s = generate(
        principal=100_000_000,
        annual_rate="4.9",
        months=360,
        method="equal_installment",
        start=START,
    )
    first, last = s.installments[0], s.installments[-1]
    assert fen_to_str(first.payment) == "5307.27"  # the figure every Chinese bank quotes
    assert (first.interest, first.principal) == (408333, 122394)
    assert last.balance == 0 and last.due_date == dt.date(2056, 1, 15)
    assert fen_to_str(s.total_interest) == "910615.12"
    assert sum(s.principals) == 100_000_000


def test_equal_installment_exact_table():
    s = generate(
        principal=1_200_000,
        annual_rate="6",
        months=3,
        method="equal_installment",
        start=dt.date(2026, 1, 31),
    )
    # r = 0.5 %/month; A = 12000 × 0.005 × 1.005³ / (1.005³ − 1) = 4040.066… → 4040.07
    assert rows(s) == [
        (1, "2026-02-28", "4040.07", "3980.07", "60.00", "8019.93"),
        (2, "2026-03-31", "4040.07", "3999.97", "40.10", "4019.96"),
        (3, "2026-04-30", "4040.06", "4019.96", "20.10", "0.00"),
    ]
    assert [i.interest for i in s.installments] == [6000, 4010, 2010]
    assert [i.principal for i in s.installments] == [398007, 399997, 401996]
    assert [i.payment for i in s.installments] == [404007, 404007, 404006]
    assert [i.due_date for i in s.installments] == [
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 30),
    ]


def test_equal_principal_exact_table():
    s = generate(
        principal=1_000_000, annual_rate="12", months=3, method="equal_principal", start=START
    )
    assert rows(s) == [
        (1, "2026-02-15", "3433.33", "3333.33", "100.00", "6666.67"),
        (2, "2026-03-15", "3400.00", "3333.33", "66.67", "3333.34"),
        (3, "2026-04-15", "3366.67", "3333.34", "33.33", "0.00"),
    ]


def test_interest_only_exact_table():
    s = generate(
        principal=5_000_000, annual_rate="7.2", months=3, method="interest_only", start=START
    )
    assert rows(s) == [
        (1, "2026-02-15", "300.00", "0.00", "300.00", "50000.00"),
        (2, "2026-03-15", "300.00", "0.00", "300.00", "50000.00"),
        (3, "2026-04-15", "50300.00", "50000.00", "300.00", "0.00"),
    ]


def test_bullet_exact_table():
    s = generate(principal=10_000_000, annual_rate="5", months=6, method="bullet", start=START)
    assert rows(s) == [(1, "2026-07-15", "102500.00", "100000.00", "2500.00", "0.00")]


def test_broken_first_period_is_pro_rata():
    s = generate(
        principal=1_000_000,
        annual_rate="7.2",
        months=3,
        method="equal_principal",
        start=dt.date(2026, 1, 10),
        repayment_day=20,
    )
    # first due 2026-02-20: 41 days × 10000 × 7.2% / 360 = 82.00
    assert s.installments[0].due_date == dt.date(2026, 2, 20)
    assert fen_to_str(s.installments[0].interest) == "82.00"
    assert [i.due_date.day for i in s.installments] == [20, 20, 20]
    assert fen_to_str(s.installments[1].interest) == "40.00"  # 6666.67 × 0.6 % = 40.0002


def test_month_end_dates():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    s = generate(
        principal=100_000,
        annual_rate="5",
        months=4,
        method="equal_principal",
        start=dt.date(2027, 12, 31),
    )
    assert [i.due_date.isoformat() for i in s.installments] == [
        "2028-01-31",
        "2028-02-29",
        "2028-03-31",
        "2028-04-30",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"principal": 0}, "本金"),
        ({"principal": -5}, "本金"),
        ({"months": 0}, "期限"),
        ({"annual_rate": "-1"}, "年利率"),
        ({"method": "weird"}, "还款方式"),
        ({"repayment_day": 32}, "还款日"),
    ],
)
def test_bad_input(kwargs, message):
    args = {
        "principal": 100_000,
        "annual_rate": "5",
        "months": 12,
        "method": "equal_installment",
        "start": START,
        **kwargs,
    }
    with pytest.raises(ScheduleError, match=message):
        generate(**args)


def test_floats_refused():
    with pytest.raises(TypeError):
        generate(principal=100_000, annual_rate=4.9, months=12, method="bullet", start=START)


amounts = st.integers(min_value=100_000, max_value=10**12)  # 1,000 yuan … 10 bn yuan
rates = st.decimals(min_value=0, max_value=36, places=2)
terms = st.integers(min_value=1, max_value=360)
starts = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31))
methods = st.sampled_from(["equal_installment", "equal_principal", "interest_only"])


@given(amounts, rates, terms, methods, starts, st.none() | st.integers(1, 31))
@settings(max_examples=300, deadline=None)
def test_properties(principal, rate, months, method, start, day):
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
    pays = [i.payment for i in s.installments]
    if method == "equal_installment" and len(pays) > 2:
        body = pays[1:-1]  # the first may carry broken-period interest
        assert max(body) == min(body)
        # The last installment absorbs the rounding drift of A (≤ 0.5 fen a period, compounded).
        r = rate / 1200
        bound = len(pays) + 1 if r == 0 else ((1 + r) ** len(pays) - 1) / r + 1
        assert abs(pays[-1] - body[0]) <= bound
    if method == "equal_principal" and months > 1:
        assert len(set(s.principals[:-1])) == 1


@given(
    st.integers(min_value=10_000, max_value=10**10),
    st.decimals("0.5", "24", places=2),
    st.integers(12, 360),
)
@settings(max_examples=200, deadline=None)
def test_installment_matches_numpy_financial(principal, rate, months):
    ours = annuity_payment(principal, Fraction(Decimal(rate)) / 1200, months)
    theirs = -npf.pmt(float(rate) / 1200, months, principal)  # fen, float
    assert abs(ours - theirs) <= 0.5 + 1e-6 * principal / 10**6


def test_prepayment_reschedules():
    s = generate(
        principal=10_000_000, annual_rate="6", months=24, method="equal_installment", start=START
    )
    after6 = s.installments[5]
    balance = after6.balance - 3_000_000  # prepay 30,000 yuan after period 6
    shorter = reschedule_after_prepayment(
        balance=balance,
        annual_rate="6",
        remaining_months=18,
        method="equal_installment",
        last_due=after6.due_date,
        regular_payment=s.installment_amount,
        mode="shorten_term",
    )
    lower = reschedule_after_prepayment(
        balance=balance,
        annual_rate="6",
        remaining_months=18,
        method="equal_installment",
        last_due=after6.due_date,
        regular_payment=s.installment_amount,
        mode="reduce_payment",
    )
    assert len(lower.installments) == 18 and lower.installment_amount < s.installment_amount
    assert len(shorter.installments) < 18
    assert shorter.installments[0].payment == s.installment_amount
    assert sum(shorter.principals) == sum(lower.principals) == balance
    assert shorter.total_interest < lower.total_interest
    assert shorter.installments[0].due_date == add_months(after6.due_date, 1)
