"""`credo demo advance --days N` (issue 15, item 15): the demo's business date moves forward
and each day's close of business runs, so a loan disbursed today goes overdue after its first
due date passes unpaid; refused in production."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from credo.core import clock
from credo.core.audit.models import AuditEntry
from credo.core.scheduling.advance import first_firing
from credo.lending import services
from credo.lending.models import EodRun, Loan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path  # the clock file lives here; never the shared data dir


def test_clock_offset_is_ignored_in_production(settings):
    clock.set_offset_days(5)
    assert clock.offset_days() == 5
    assert (clock.today() - dt.date.today()).days in (4, 5, 6)  # local date vs UTC
    settings.ENVIRONMENT = "production"
    assert clock.offset_days() == 0
    with pytest.raises(RuntimeError):
        clock.set_offset_days(6)


def test_advance_refused_in_production(settings):
    settings.ENVIRONMENT = "production"
    with pytest.raises(CommandError, match="生产环境"):
        call_command("demo", "advance", "--days", "3")
    settings.ENVIRONMENT = "test"
    assert clock.offset_days() == 0
    assert not EodRun.objects.exists()


def test_days_must_be_sensible():
    with pytest.raises(CommandError, match="1 到 366"):
        call_command("demo", "advance", "--days", "0")
    assert clock.offset_days() == 0


def test_first_firing_per_day():
    day = dt.date(2026, 12, 1)
    assert first_firing("30 1 * * *", day).hour == 1
    assert first_firing("0 6 1 * *", day) is not None
    assert first_firing("0 6 1 * *", day + dt.timedelta(days=1)) is None
    assert first_firing("* * * * *", day).hour == 0


def test_a_loan_goes_overdue_as_the_demo_advances(make_loan, finance):
    loan = make_loan(months=3)
    start = clock.today()
    loan = services.loan_disburse(loan=loan, actor=finance, value_date=start)
    first_due = loan.installments.order_by("period").first().due_date
    days = (first_due - start).days + 2
    out = io.StringIO()
    call_command("demo", "advance", "--days", str(days), stdout=out)

    assert clock.today() == start + dt.timedelta(days=days)
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.status == "overdue" and loan.dpd >= 1
    closed = set(EodRun.objects.filter(status="done").values_list("business_date", flat=True))
    assert first_due in closed and clock.today() - dt.timedelta(days=1) in closed
    assert AuditEntry.objects.filter(action="demo.clock_advance").count() == days
    assert f"业务日期现为 {clock.today().isoformat()}" in out.getvalue()
