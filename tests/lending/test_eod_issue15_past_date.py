"""Issue 15 #3: the close of business refuses a date before the last completed one (page,
service and CLI), re-running the last completed date stays a no-op, catch-up still works, and
no past date's report snapshot is ever rebuilt from today's book."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from credo.core.audit.models import AuditEntry
from credo.lending import eod, services
from credo.lending.models import EodRun, Installment, Loan
from credo.reports.models import PortfolioSnapshot
from tests.lending.conftest import VALUE_DATE
from tests.lending.test_eod import eod_urls, eod_user  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

D = dt.date
REFUSED = "早于最近一次完成的日终 2026-02-20"


@pytest.fixture
def loan(make_loan, finance):
    """120,000.00 at 12% over 12 months; first installment due 2026-02-15."""
    return services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)


def _state(loan: Loan):
    return (
        list(EodRun.objects.values_list("business_date", "status").order_by("business_date")),
        Loan.objects.values().get(pk=loan.pk),
        list(Installment.objects.values().order_by("pk")),
        list(
            PortfolioSnapshot.objects.values_list("business_date", "outstanding").order_by(
                "business_date"
            )
        ),
    )


def test_date_before_last_completed_close_is_refused(loan):
    # the first close ever: only 2026-02-20 runs (nothing before it to catch up)
    run = eod.run_eod(D(2026, 2, 20))
    assert run.status == "done"
    assert EodRun.objects.count() == 1
    before = _state(loan)
    with pytest.raises(eod.EodError, match=REFUSED) as info:
        eod.run_eod(D(2026, 2, 16))
    assert "按起息日" in info.value.message
    assert _state(loan) == before  # no run, no marking, no 2026-02-16 snapshot
    assert not PortfolioSnapshot.objects.filter(business_date=D(2026, 2, 16)).exists()
    # also when the earlier date itself was closed: refused, nothing changes
    with pytest.raises(eod.EodError, match=REFUSED):
        eod.run_eod(D(2026, 2, 19), inline=False)
    assert _state(loan) == before


def test_rerunning_the_last_completed_date_is_a_no_op(loan):
    run = eod.run_eod(D(2026, 2, 20))
    before = _state(loan)
    audits = AuditEntry.objects.count()
    again = eod.run_eod(D(2026, 2, 20))
    assert again.pk == run.pk and again.status == "done"
    assert _state(loan) == before and AuditEntry.objects.count() == audits


def test_catch_up_after_the_last_completed_close_still_runs_every_missed_day(loan):
    eod.run_eod(D(2026, 2, 16))
    run = eod.run_eod(D(2026, 2, 20))
    assert run.business_date == D(2026, 2, 20) and run.status == "done"
    assert list(EodRun.objects.values_list("business_date", flat=True).order_by("id")) == [
        D(2026, 2, d) for d in range(16, 21)
    ]
    # each closed day kept its own snapshot, written when that day closed
    assert list(
        PortfolioSnapshot.objects.values_list("business_date", flat=True).order_by("business_date")
    ) == [D(2026, 2, d) for d in range(16, 21)]


def test_cli_refuses_a_date_before_the_last_completed_close(loan):
    call_command("eod", "--date", "2026-02-20")
    before = _state(loan)
    with pytest.raises(CommandError, match=REFUSED):
        call_command("eod", "--date", "2026-02-16")
    assert _state(loan) == before
    call_command("eod", "--date", "2026-02-20")  # the same date again: fine, unchanged
    assert _state(loan) == before


def test_page_refuses_a_date_before_the_last_completed_close(client, eod_urls, eod_user, loan):  # noqa: F811
    eod.run_eod(D(2026, 2, 20))
    before = _state(loan)
    client.force_login(eod_user)
    page = client.get(reverse("lending_eod:runs")).content.decode()
    assert "最近一次完成的日终：2026-02-20" in page
    response = client.post(reverse("lending_eod:runs"), {"business_date": "2026-02-16"})
    assert response.status_code == 200
    html = response.content.decode()
    assert REFUSED in html and "按起息日重放" in html
    assert _state(loan) == before


def test_nightly_close_after_a_manual_close_of_today_does_nothing(settings):
    """The nightly job closes yesterday; if today was already closed by hand it must not fail on
    the past-date refusal."""
    from credo.core import clock
    from credo.lending.tasks import eod_nightly

    today = clock.today()
    eod.run_eod(today)
    assert eod_nightly.call() == EodRun.objects.get(business_date=today).pk
    assert not EodRun.objects.filter(business_date=today - dt.timedelta(days=1)).exists()


def test_cli_workers_option(loan):
    out = io.StringIO()
    call_command("eod", "--date", "2026-02-20", "--workers", "2", stdout=out)
    assert "完成" in out.getvalue() or "done" in out.getvalue().lower()
    assert EodRun.objects.get(business_date=D(2026, 2, 20)).status == "done"
    with pytest.raises(CommandError, match="并行线程数"):
        call_command("eod", "--date", "2026-02-21", "--workers", "0")
