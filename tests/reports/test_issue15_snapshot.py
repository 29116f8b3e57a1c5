"""Issue 15 #3 (reports side): a past date's portfolio snapshot is never rebuilt from today's
book — not by the close-of-business hook, not by ``snapshot_refresh``, not by the CLI."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.core.management import CommandError, call_command

from credo.core.money import Money
from credo.lending import eod
from credo.lending.models import EodRun, Loan
from credo.reports import services, tasks
from credo.reports.models import PortfolioSnapshot

pytestmark = pytest.mark.django_db

D = dt.date
Y = 100  # fen per yuan


def _snapshot(day: dt.date) -> list[tuple]:
    return list(
        PortfolioSnapshot.objects.filter(business_date=day)
        .values_list("owner_id", "product_id", "loans", "outstanding", "overdue_balance")
        .order_by("owner_id", "product_id")
    )


@pytest.fixture
def closed(portfolio):
    """2026-02-16 closed (its snapshot frozen at 1,000,000.00), then the book moves (a loan's
    balance falls by 100,000.00) and 2026-02-20 closes."""
    eod.run_eod(D(2026, 2, 16))
    frozen = _snapshot(D(2026, 2, 16))
    assert sum(r[3].fen for r in frozen) == 1_000_000 * Y
    loan = portfolio[3]
    Loan.objects.filter(pk=loan.pk).update(
        outstanding_principal=Money.from_fen(loan.outstanding_principal.fen - 100_000 * Y)
    )
    eod.run_eod(D(2026, 2, 20))
    return frozen


def test_snapshot_refresh_refuses_a_date_before_the_book(closed):
    with pytest.raises(services.ReportError, match="2026-02-20"):
        services.snapshot_refresh(D(2026, 2, 16))
    assert _snapshot(D(2026, 2, 16)) == closed
    # the book's own date may still be rebuilt (a failed hook, a truncated table)
    assert services.snapshot_refresh(D(2026, 2, 20)) == 1
    assert sum(r[3].fen for r in _snapshot(D(2026, 2, 20))) == 900_000 * Y


def test_cli_snapshot_of_a_past_date_writes_nothing(closed):
    with pytest.raises(CommandError, match="不能用当前贷款余额生成 2026-02-16 的组合快照"):
        call_command("reports", "snapshot", "--date", "2026-02-16")
    assert _snapshot(D(2026, 2, 16)) == closed
    call_command("reports", "snapshot", "--date", "2026-02-20")
    assert sum(r[3].fen for r in _snapshot(D(2026, 2, 20))) == 900_000 * Y


def test_close_of_business_hook_skips_a_past_date_with_a_logged_reason(closed, caplog):
    run = EodRun.objects.get(business_date=D(2026, 2, 16))
    with caplog.at_level(logging.WARNING, logger="credo.reports.tasks"):
        tasks.after_eod(run)
    assert _snapshot(D(2026, 2, 16)) == closed
    assert "2026-02-16" in caplog.text and "skipped" in caplog.text


def test_snapshot_before_the_first_close_only_for_today(portfolio):
    from credo.core import clock

    today = clock.today()
    with pytest.raises(services.ReportError):
        services.snapshot_refresh(today - dt.timedelta(days=1))
    assert not PortfolioSnapshot.objects.exists()
    assert services.snapshot_refresh(today) == 1
