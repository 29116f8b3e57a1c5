"""Indicators on small hand-made data, business date passed explicitly."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.core.money import Money
from credo.customers.models import Relation
from credo.lending.models import Posting, StatementImport, StatementLine
from credo.monitoring import indicators
from credo.monitoring.indicators import _pct_drop
from credo.monitoring.models import LoanIndicator
from tests.monitoring.conftest import DAY, months

pytestmark = pytest.mark.django_db


def _posting(loan, amount_fen, on, actor):
    from credo.lending.models import JournalEntry

    entry = JournalEntry.objects.create(kind="repayment", loan=loan, business_date=on)
    return Posting.objects.create(
        loan=loan,
        amount=Money.from_fen(amount_fen),
        received_on=on,
        channel="manual",
        entry=entry,
        actor=actor,
    )


def test_repayment_indicators_exact(customer_factory, loan_factory, owner):
    dues = months(dt.date(2026, 1, 10), 8)  # Jan..Aug 10th; Jan–Jun are past on 2026-06-15
    schedule = [
        (dues[0], dues[0]),  # on time
        (dues[1], dues[1]),  # on time
        (dues[2], dues[2] + dt.timedelta(days=3)),  # late
        (dues[3], dues[3] + dt.timedelta(days=1)),  # late
        (dues[4], None, 50000),  # partial, unpaid (due 2026-05-10)
        (dues[5], None),  # unpaid (due 2026-06-10)
        (dues[6], None),
        (dues[7], None),
    ]
    loan = loan_factory(customer_factory(), schedule, dpd=36)
    for amount, on in (
        (1000000, dues[0]),
        (1000000, dues[1]),
        (1000000, dues[2]),
        (400000, dues[3]),
    ):
        _posting(loan, amount, on + dt.timedelta(days=3 if on == dues[2] else 0), owner)
    assert indicators.compute(DAY) == 1
    ind = LoanIndicator.objects.get(loan=loan)
    assert ind.as_of == DAY
    assert ind.dpd == 36
    # 30 days before (2026-05-16) the oldest unpaid installment was due 2026-05-10 → 6 days
    assert ind.dpd_30d_ago == 6
    # last payment: installment 4 paid 2026-04-11 → 65 days
    assert ind.days_since_payment == (DAY - (dues[3] + dt.timedelta(days=1))).days
    # periods 3,4 late, 5,6 unpaid after the last on-time period 2 → streak 4
    assert ind.partial_streak == 4
    assert ind.last_payment == 400000
    assert ind.avg_prev_payment == 1000000
    assert ind.payment_drop_pct == 60
    assert ind.installments_left == 4
    assert ind.late_12m == 4
    assert ind.on_time_pct == 33  # 2 of 6 due in the last 12 months
    assert ind.open is True and ind.paid_off is False


def test_customer_level_indicators(customer_factory, loan_factory, owner):
    a = customer_factory("甲公司")
    b = customer_factory("乙公司")
    c = customer_factory("丙公司", risk_flags=["judgment_debtor"])
    d = customer_factory("丁公司")
    dues = months(dt.date(2026, 7, 10), 3)
    loan_a = loan_factory(a, [(x, None) for x in dues])
    loan_factory(b, [(dt.date(2026, 5, 1), None)], dpd=45)
    loan_d = loan_factory(d, [(x, None) for x in dues])
    Relation.objects.create(from_customer=a, to_customer=b, kind="guarantor")
    Relation.objects.create(from_customer=c, to_customer=d, kind="shareholder")
    indicators.compute(DAY)
    ia = LoanIndicator.objects.get(loan=loan_a)
    idd = LoanIndicator.objects.get(loan=loan_d)
    assert ia.related_overdue is True and ia.related_judgment_debtor is False
    assert idd.related_overdue is False and idd.related_judgment_debtor is True
    assert ia.judgment_debtor is False


def test_inflow_drop(customer_factory, loan_factory, owner):
    cust = customer_factory()
    loan = loan_factory(cust, [(x, None) for x in months(dt.date(2026, 7, 10), 3)])
    st = StatementImport.objects.create(file_name="s.xlsx", uploaded_by=owner)
    rows = [
        (DAY - dt.timedelta(days=d), fen)
        for d, fen in ((100, 300000), (70, 300000), (40, 300000), (5, 60000))
    ]
    for i, (day, amount) in enumerate(rows, 1):
        StatementLine.objects.create(
            statement=st, row_number=i, txn_date=day, amount=Money.from_fen(amount), loan=loan
        )
    indicators.compute(DAY)
    ind = LoanIndicator.objects.get(loan=loan)
    assert ind.inflow_30d == 60000
    assert ind.inflow_avg_3m == 300000
    assert ind.inflow_drop_pct == 80


def test_pct_drop_properties():
    from hypothesis import given
    from hypothesis import strategies as st

    @given(st.integers(0, 10**12), st.integers(0, 10**12))
    def check(before, now):
        pct = _pct_drop(before, now)
        assert 0 <= pct <= 100
        if now >= before:
            assert pct == 0

    check()
