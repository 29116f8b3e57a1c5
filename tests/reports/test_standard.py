"""Vintage, roll rates, repayment forecast and staff performance on a hand-made portfolio."""

import datetime as dt
from decimal import Decimal

import pytest

from credo.reports import standard
from credo.reports.models import LoanMonthEnd

pytestmark = pytest.mark.django_db
D = dt.date


def _snap(loan, month_end, dpd):
    LoanMonthEnd.objects.create(
        month_end=month_end,
        loan=loan,
        cohort=loan.start_date.replace(day=1),
        dpd=dpd,
        outstanding=loan.outstanding_principal,
        principal=loan.principal,
    )


@pytest.fixture
def history(portfolio):
    a, b, c, d = portfolio  # 100k, 200k, 300k, 400k, all disbursed 2026-01-15
    months = [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30)]
    dpds = {
        a: [0, 0, 0, 0],
        b: [10, 20, 40, 70],  # first ≥ 30 at the March month end (month on book 2)
        c: [40, None, None, None],  # ≥ 30 already at January's end (mob 0), then paid off
        d: [0, 5, 0, 0],
    }
    for loan, values in dpds.items():
        for month, dpd in zip(months, values, strict=True):
            if dpd is not None:
                _snap(loan, month, dpd)
    return portfolio


def test_roll_rate_matrix_by_hand(history, owner):
    r = standard.roll_rates(owner, D(2026, 2, 1))
    assert (r["from"], r["to"]) == (D(2026, 1, 31), D(2026, 2, 28))
    m = r["matrix"]
    assert r["totals"] == {"C": 2, "M1": 1, "M2": 1, "M3": 0, "M4+": 0}
    assert m["C"]["C"] == {"count": 1, "rate": Decimal("0.5000")}  # A stays current
    assert m["C"]["M1"] == {"count": 1, "rate": Decimal("0.5000")}  # D rolls into M1
    assert m["M1"]["M1"] == {"count": 1, "rate": Decimal("1.0000")}  # B: 10 → 20 days
    assert m["M2"]["结清"] == {"count": 1, "rate": Decimal("1.0000")}  # C paid off
    assert m["M3"]["C"]["rate"] is None
    later = standard.roll_rates(owner)  # default: the last two month ends (Mar → Apr)
    assert later["matrix"]["M2"]["M3"]["count"] == 1  # B: 40 → 70


def test_vintage_by_hand(history, owner):
    v = standard.vintage(owner, threshold=30, max_mob=4)
    [row] = v.rows
    assert row["cohort"] == D(2026, 1, 1) and row["loans"] == 4
    # C was ≥30 at mob 0 (Jan end) so it counts from mob 1; B from mob 2; Apr = mob 3 observed
    assert row["rates"] == [Decimal("0.2500"), Decimal("0.5000"), Decimal("0.5000"), None]
    by_amount = standard.vintage(owner, threshold=30, max_mob=4, by="principal")
    assert by_amount.rows[0]["rates"][:3] == [
        Decimal("0.3000"),
        Decimal("0.5000"),
        Decimal("0.5000"),
    ]


def test_monthend_backfill_from_installments(portfolio):
    a = portfolio[0]
    # nothing paid: at the end of April, the oldest unpaid installment fell due on Feb 15
    n = standard.monthend_backfill(D(2026, 4, 1))
    assert n == 4
    row = LoanMonthEnd.objects.get(loan=a, month_end=D(2026, 4, 30))
    assert row.dpd == (D(2026, 4, 30) - D(2026, 2, 15)).days
    assert row.cohort == D(2026, 1, 1) and row.outstanding == a.principal
    assert standard.monthend_capture(D(2026, 4, 29)) == 0  # not a month end


def test_repayment_forecast_by_hand(portfolio, owner):
    rows = standard.repayment_forecast(owner, today=D(2026, 2, 1))
    # 12 × 12 % equal installments: 8,884.88 + 17,769.76 + 26,654.64 + 35,539.52 per month
    month = 8_884_880
    assert [(r["days"], r["scheduled"]) for r in rows] == [
        (30, month),
        (60, 2 * month),
        (90, 3 * month),
    ]
    assert rows[0]["ratio"] is None and rows[0]["expected"] is None  # nothing due before


def test_staff_performance(portfolio, owner, outsider):
    rows = standard.staff_performance(owner, D(2026, 1, 1), D(2026, 1, 31))
    [me] = [r for r in rows if r["user_id"] == owner.pk]
    assert me["disbursed"] == 1_000_000 * 100 and me["loans"] == 4
    assert me["overdue_rate"] == Decimal("0.9000")
    assert standard.staff_performance(outsider, D(2026, 1, 1), D(2026, 1, 31)) == []


def test_forecast_from_due_summary_equals_live(portfolio, owner):
    from credo.reports import services

    live = standard.repayment_forecast(owner, today=D(2026, 2, 1))
    services.due_summary_refresh(D(2026, 1, 31))
    from_summary = standard.repayment_forecast(owner, today=D(2026, 2, 1))
    assert from_summary == live
