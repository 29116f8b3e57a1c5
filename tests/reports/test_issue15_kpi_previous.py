"""Issue 15 #2: the dashboard's "上期" balance figures come only from the frozen snapshot of the
previous period's last closed business date — never from the live book. Without one the card
shows "—" and no change."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.core.money import Money
from credo.lending.models import EodRun, Loan
from credo.reports import kpis, services

pytestmark = pytest.mark.django_db

Y = 100
BOOK = ("outstanding", "overdue_rate_count", "overdue_rate_balance", "m1_rate", "m3_rate")


def _cards(user, period: str, today: dt.date) -> dict[str, dict]:
    return {c["key"]: c for c in kpis.compute(user, period, today)}


def test_previous_period_without_a_snapshot_has_no_figure(portfolio, owner):
    cards = _cards(owner, "month", dt.date(2026, 3, 10))
    assert cards["outstanding"]["value"] == 1_000_000 * Y  # the current period: live book
    assert str(cards["overdue_rate_balance"]["value"]) == "0.9000"
    for key in BOOK:
        assert cards[key]["previous"] is None, key
        assert cards[key]["change"] is None and cards[key]["good"] is None, key


def test_previous_period_comes_from_the_frozen_snapshot_and_never_moves(portfolio, owner):
    # the close of 2026-02-28 froze the book: 1,000,000.00, 900,000.00 of it overdue
    EodRun.objects.create(business_date=dt.date(2026, 2, 28), status="done")
    services.snapshot_refresh(dt.date(2026, 2, 28))
    today = dt.date(2026, 3, 10)
    cards = _cards(owner, "month", today)
    assert cards["outstanding"]["previous"] == 1_000_000 * Y
    assert str(cards["overdue_rate_balance"]["previous"]) == "0.9000"
    # the book moves today (the overdue 400,000.00 loan repaid in full): "上期" stays put
    big = portfolio[3]
    Loan.objects.filter(pk=big.pk).update(
        outstanding_principal=Money.from_fen(0), dpd=0, status="paid_off"
    )
    cards = _cards(owner, "month", today)
    assert cards["outstanding"]["value"] == 600_000 * Y
    assert cards["outstanding"]["previous"] == 1_000_000 * Y
    assert str(cards["overdue_rate_balance"]["previous"]) == "0.9000"
    assert str(cards["outstanding"]["change"]) == "-0.4"
    assert cards["m3_rate"]["previous"] is not None and cards["m3_rate"]["value"] is not None


def test_dashboard_page_shows_a_dash_for_a_missing_previous_figure(client, portfolio, owner):
    client.force_login(owner)
    page = client.get("/reports/?period=month")
    cards = {c["key"]: c for c in page.context["cards"]}
    assert cards["outstanding"]["previous"] is None and cards["outstanding"]["change"] is None
    html = page.content.decode()
    card = html[html.index('data-kpi="outstanding"') :]
    card = card[: card.index("</a>")]
    assert "上期 —" in " ".join(card.split()) and "%" not in card
