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


def test_sql_path_matches_python_path(customer_factory, loan_factory, owner):
    """PostgreSQL computes every indicator in one statement (``_compute_sql``); the portable
    path (``_compute_python``, SQLite) must give exactly the same rows on a varied book."""
    from django.db import connection
    from django.forms.models import model_to_dict

    from credo.lending.models import Loan

    if connection.vendor != "postgresql":
        pytest.skip("the SQL path is PostgreSQL only")
    a = customer_factory("甲公司")
    b = customer_factory("乙公司", risk_flags=["judgment_debtor"])
    c = customer_factory("丙公司")
    Relation.objects.create(from_customer=a, to_customer=b, kind="guarantor")
    dues = months(dt.date(2025, 11, 10), 10)
    late = [(d, d + dt.timedelta(days=i % 3), 0) for i, d in enumerate(dues[:5])]
    mixed = loan_factory(a, [*late, (dues[5], None, 30000), *[(d, None) for d in dues[6:]]], dpd=36)
    for i, (amount, on) in enumerate(((1000000, dues[0]), (400001, dues[1]), (300001, dues[2]))):
        _posting(mixed, amount, on + dt.timedelta(days=i), owner)
    Posting.objects.filter(loan=mixed, amount=Money.from_fen(300001)).update(
        reversed_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    )
    clean = loan_factory(b, [(d, d if d < DAY else None) for d in dues])
    loan_factory(c, [(x, None) for x in months(dt.date(2026, 7, 10), 3)])
    paid = loan_factory(c, [(d, d) for d in months(dt.date(2026, 1, 20), 5)], status="paid_off")
    old = loan_factory(c, [(d, d) for d in months(dt.date(2025, 1, 20), 3)], status="paid_off")
    st = StatementImport.objects.create(file_name="s.xlsx", uploaded_by=owner)
    for i, (back, fen) in enumerate(((100, 300000), (40, 250000), (5, 7))):
        StatementLine.objects.create(
            statement=st,
            row_number=i + 1,
            txn_date=DAY - dt.timedelta(days=back),
            amount=Money.from_fen(fen),
            loan=clean,
        )

    def rows():
        return {r.loan_id: model_to_dict(r) for r in LoanIndicator.objects.order_by("loan_id")}

    assert indicators._compute_python(DAY) == 4
    python_rows = rows()
    LoanIndicator.objects.all().delete()
    assert indicators._compute_sql(DAY, None) == 4
    assert rows() == python_rows
    assert old.pk not in python_rows and python_rows[paid.pk]["paid_off"] is True
    assert python_rows[clean.pk]["inflow_drop_pct"] == 99
    assert python_rows[mixed.pk]["payment_drop_pct"] == 59
    # a subset of loans (the API's single-loan refresh)
    LoanIndicator.objects.all().delete()
    assert indicators._compute_sql(DAY, [mixed.pk, old.pk]) == 1
    assert rows() == {mixed.pk: python_rows[mixed.pk]}
    assert Loan.objects.count() == 5
