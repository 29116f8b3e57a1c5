"""Roll rates: write-off is its own destination column (not 结清); the backfill keeps
written-off loans until their write-off; recoveries in the period are reported."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.lending import services
from credo.lending.models import JournalEntry, Loan
from credo.lending.services.recovery import recovery_post
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
        outstanding=loan.principal,
        principal=loan.principal,
    )


def _write_off(loan, actor, day):
    Loan.objects.filter(pk=loan.pk).update(classification="loss", status="overdue")
    entry = services.loan_write_off(loan=Loan.objects.get(pk=loan.pk), actor=actor, reason="破产")
    JournalEntry.objects.filter(pk=entry.pk).update(business_date=day)
    from credo.lending.models import OffBalance

    OffBalance.objects.filter(loan=loan).update(written_off_on=day)
    return Loan.objects.get(pk=loan.pk)


def test_write_off_is_its_own_column(portfolio, owner, finance):
    a, b, c, d = portfolio
    for loan, dpd in ((a, 0), (b, 20), (c, 100), (d, 120)):
        _snap(loan, D(2026, 1, 31), dpd)
    _snap(a, D(2026, 2, 28), 0)
    _snap(b, D(2026, 2, 28), 50)
    # c paid off (absent at Feb end, not written off); d written off on Feb 20
    _write_off(d, finance, D(2026, 2, 20))
    recovery_post(loan=d, amount=services.Money("300"), received_on=D(2026, 2, 25), actor=finance)
    r = standard.roll_rates(owner, D(2026, 2, 1))
    assert r["buckets"][-2:] == ["结清", "核销"]
    m = r["matrix"]
    assert m["M4+"]["核销"]["count"] == 1  # d
    assert m["M4+"]["结清"]["count"] == 1  # c
    assert m["M1"]["M2"]["count"] == 1
    assert r["flows"]["write_off_count"] == 1
    assert r["flows"]["write_off_principal"] == d.principal.fen
    assert r["flows"]["recovery_amount"] == 30_000 and r["flows"]["recovery_count"] == 1


def test_backfill_keeps_written_off_loans_until_their_write_off(portfolio, finance):
    d = portfolio[3]
    _write_off(d, finance, D(2026, 4, 10))
    standard.monthend_backfill(D(2026, 3, 1))
    row = LoanMonthEnd.objects.get(loan=d, month_end=D(2026, 3, 31))
    assert row.outstanding.fen == d.principal.fen and row.dpd > 0
    standard.monthend_backfill(D(2026, 4, 1))
    assert not LoanMonthEnd.objects.filter(loan=d, month_end=D(2026, 4, 30)).exists()


def test_roll_rate_page_shows_the_write_off_column(client, portfolio, owner, finance):
    a, b, c, d = portfolio
    _snap(d, D(2026, 1, 31), 120)
    _snap(a, D(2026, 2, 28), 0)
    _write_off(d, finance, D(2026, 2, 20))
    client.force_login(owner)
    html = client.get("/reports/roll-rates/?month=2026-02").content.decode()
    assert "核销" in html and 'id="roll-flows"' in html
