"""The monitoring after-close job at scale (issue 19): counts returned, re-runs for the same
date, renewal invitations through the bulk notification path, and a query count that does not
grow with the number of loans and alerts."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credo.customers.models import CustomerEvent
from credo.monitoring.batch import on_eod_done, run_monitoring
from credo.monitoring.models import Alert, AlertAction, RetentionTrigger
from credo.notify.models import Message
from tests.monitoring.conftest import DAY, months

pytestmark = pytest.mark.django_db


def _overdue(customer_factory, loan_factory, n, dpd=40):
    return [
        loan_factory(
            customer_factory(),
            [(DAY - dt.timedelta(days=dpd), None), (DAY + dt.timedelta(days=30), None)],
            dpd=dpd,
        )
        for _ in range(n)
    ]


def _renewal(customer_factory, loan_factory, n):
    dues = months(dt.date(2025, 9, 10), 12)  # 2 installments left after DAY: renewal
    return [
        loan_factory(
            customer_factory(phone=f"1390000{i:04d}"), [(d, d if d < DAY else None) for d in dues]
        )
        for i in range(n)
    ]


def test_after_close_job_returns_counts_and_is_safe_to_rerun(
    customer_factory, loan_factory, risk_manager
):
    _overdue(customer_factory, loan_factory, 3)
    _renewal(customer_factory, loan_factory, 2)
    run = SimpleNamespace(business_date=DAY)
    first = on_eod_done(run)
    assert first["loans"] == 5 and first["alerts_created"] >= 3
    assert first["retention_renewal"] == 2
    before = (
        Alert.objects.count(),
        AlertAction.objects.count(),
        CustomerEvent.objects.count(),
        Message.objects.count(),
        RetentionTrigger.objects.count(),
    )
    again = on_eod_done(run)
    assert again.get("alerts_created", 0) == 0 and again.get("retention_renewal", 0) == 0
    after = (
        Alert.objects.count(),
        AlertAction.objects.count(),
        CustomerEvent.objects.count(),
        Message.objects.count(),
        RetentionTrigger.objects.count(),
    )
    assert after == before


def test_renewal_invitations_go_through_the_bulk_path_once(customer_factory, loan_factory):
    loans = _renewal(customer_factory, loan_factory, 3)
    counts = run_monitoring(DAY)
    for loan in loans:
        msgs = Message.objects.filter(dedupe_key=f"retention:{loan.pk}:renewal")
        assert msgs.exists() and all(m.category == "marketing" for m in msgs)
    assert counts["invites_queued"] + counts.get("invites_suppressed", 0) >= 3
    n = Message.objects.count()
    run_monitoring(DAY + dt.timedelta(days=1))
    assert Message.objects.count() == n


def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_loans_and_alerts(
    customer_factory, loan_factory, risk_manager
):
    from credo.rules.services import ensure_defaults

    ensure_defaults()
    _overdue(customer_factory, loan_factory, 3)
    _renewal(customer_factory, loan_factory, 2)
    small = _queries(lambda: run_monitoring(DAY))
    _overdue(customer_factory, loan_factory, 40)
    _renewal(customer_factory, loan_factory, 20)
    large = _queries(lambda: run_monitoring(DAY + dt.timedelta(days=1)))
    assert Alert.objects.count() >= 43
    assert large <= small + 3, (small, large)
