"""Browser, issue 15 #2: with no snapshot for the previous period the dashboard shows "上期 —"
and no change — not the live book dressed up as last period (a fake −1.43 % drop)."""

from __future__ import annotations

import pytest

from credo.core import clock
from credo.core.money import Money
from credo.lending.models import EodRun, Loan
from credo.reports import services
from tests.e2e.axe import assert_accessible
from tests.reports.conftest import (  # noqa: F401 (fixtures)
    borrower,
    finance,
    make_loan,
    portfolio,
    product_version,
    viewers,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_previous_period_without_snapshot_shows_a_dash(page, login, portfolio, owner):  # noqa: F811
    # today's close froze the book at 1,000,000.00 (the current period reads it) ...
    today = clock.today()
    EodRun.objects.create(business_date=today, status="done")
    services.snapshot_refresh(today)
    # ... then a repayment moves the live book; nothing was ever frozen for last month
    big = portfolio[3]
    Loan.objects.filter(pk=big.pk).update(
        outstanding_principal=Money.from_fen(big.outstanding_principal.fen - 14_300_00)
    )
    login(owner)
    page.goto(f"{page.base_url}/reports/?period=month")
    card = page.locator("[data-kpi=outstanding]")
    assert "1,000,000.00" in card.locator(".kpi-value").inner_text()
    assert_accessible(page, "dashboard")
    footer = " ".join(card.locator(".small").inner_text().split())
    assert footer == "上期 —", footer
    for key in ("overdue_rate_count", "overdue_rate_balance", "m1_rate", "m3_rate"):
        footer = " ".join(page.locator(f"[data-kpi={key}] .small").inner_text().split())
        assert footer == "上期 —", (key, footer)
    assert page.console_errors == []
