"""Rules over indicators → alerts: thresholds, dedup, auto-close, assignment, retention."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from credo.core.todo.models import Todo
from credo.customers.models import CustomerEvent
from credo.lending.models import Installment, Loan
from credo.monitoring.batch import run_monitoring
from credo.monitoring.models import Alert, AlertAction, RetentionSuggestion, RetentionTrigger
from tests.monitoring.conftest import DAY, months


def _overdue_loan(customer_factory, loan_factory, dpd):
    due = DAY - dt.timedelta(days=dpd)
    return loan_factory(
        customer_factory(), [(due, None), (DAY + dt.timedelta(days=30), None)], dpd=dpd
    )


@pytest.mark.django_db
@pytest.mark.parametrize("dpd,hit", [(29, False), (30, True), (31, True)])
def test_dpd_threshold(customer_factory, loan_factory, risk_manager, dpd, hit):
    loan = _overdue_loan(customer_factory, loan_factory, dpd)
    run_monitoring(DAY)
    alerts = Alert.objects.filter(loan=loan, rule_code="dpd_30")
    assert alerts.exists() is hit
    if hit:
        a = alerts.get()
        assert a.severity == "high"
        assert a.assignee == risk_manager
        assert a.snapshot["dpd"] == dpd
        assert a.rules_version is not None
        assert a.reasons and a.reasons[0]["description"] == "逾期天数 ≥ 30"
        assert a.actions.filter(kind="created").count() == 1
        assert CustomerEvent.objects.filter(customer=loan.customer, kind="alert").exists()


@pytest.mark.django_db
def test_judgment_debtor_is_critical_and_fallback_assignee(customer_factory, loan_factory, owner):
    cust = customer_factory(risk_flags=["judgment_debtor"])
    loan = loan_factory(cust, [(x, None) for x in months(dt.date(2026, 7, 10), 3)])
    run_monitoring(DAY)
    a = Alert.objects.get(loan=loan, rule_code="judgment_debtor")
    assert a.severity == "critical"
    assert a.assignee == owner  # no risk manager at all → the customer's owner


@pytest.mark.django_db
def test_run_twice_one_open_alert_then_auto_close(customer_factory, loan_factory, risk_manager):
    loan = _overdue_loan(customer_factory, loan_factory, 40)
    run_monitoring(DAY)
    run_monitoring(DAY)
    assert Alert.objects.filter(loan=loan, rule_code="dpd_30").count() == 1
    # the loan is cured: the next run closes the alert and notes it in the trail
    Installment.objects.filter(loan=loan, period=1).update(
        status="paid", paid_on=DAY, principal_paid=900000, interest_paid=100000
    )
    Loan.objects.filter(pk=loan.pk).update(dpd=0, status="active")
    counts = run_monitoring(DAY + dt.timedelta(days=1))
    a = Alert.objects.get(loan=loan, rule_code="dpd_30")
    assert a.status == "closed" and counts["alerts_auto_closed"] >= 1
    assert a.actions.filter(kind="auto_close").exists()


@pytest.mark.django_db
def test_auto_close_can_be_switched_off(customer_factory, loan_factory, settings):
    settings.CREDO_MONITORING_AUTO_CLOSE = False
    loan = _overdue_loan(customer_factory, loan_factory, 40)
    run_monitoring(DAY)
    Loan.objects.filter(pk=loan.pk).update(dpd=0, status="active")
    Installment.objects.filter(loan=loan, period=1).update(status="paid", paid_on=DAY)
    run_monitoring(DAY + dt.timedelta(days=1))
    assert Alert.objects.get(loan=loan, rule_code="dpd_30").status == "open"


@pytest.mark.django_db
def test_closed_alert_reopens_as_new_alert(customer_factory, loan_factory, risk_manager):
    from credo.monitoring.services import alert_close

    loan = _overdue_loan(customer_factory, loan_factory, 40)
    run_monitoring(DAY)
    alert_close(
        alert=Alert.objects.get(loan=loan, rule_code="dpd_30"),
        conclusion="已处理",
        actor=risk_manager,
    )
    run_monitoring(DAY + dt.timedelta(days=1))
    assert Alert.objects.filter(loan=loan, rule_code="dpd_30").count() == 2
    assert Alert.objects.filter(loan=loan, rule_code="dpd_30").exclude(status="closed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_create_one_alert(customer_factory, loan_factory, risk_manager):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency needs PostgreSQL")
    loan = _overdue_loan(customer_factory, loan_factory, 40)
    from credo.rules.services import ensure_defaults

    ensure_defaults()
    errors = []

    def run():
        try:
            run_monitoring(DAY)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Alert.objects.filter(loan=loan, rule_code="dpd_30").count() == 1


@pytest.mark.django_db
def test_retention_fires_once(customer_factory, loan_factory, owner):
    dues = months(dt.date(2025, 9, 10), 12)  # Sep 2025 .. Aug 2026: 2 left after 2026-06-15
    schedule = [(d, d if d < DAY else None) for d in dues]
    loan = loan_factory(customer_factory(), schedule)
    run_monitoring(DAY)
    run_monitoring(DAY + dt.timedelta(days=1))
    assert set(RetentionTrigger.objects.filter(loan=loan).values_list("key", flat=True)) == {
        f"loan:{loan.pk}:renewal",
        f"customer:{loan.customer_id}:good_customer:2026",
    }
    assert RetentionSuggestion.objects.filter(loan=loan).count() == 1
    s = RetentionSuggestion.objects.get(loan=loan)
    assert s.suggested_amount.fen == loan.principal.fen * 120 // 100  # no limit: principal + 20 %
    assert (
        Todo.objects.filter(user=owner, dedupe_key=f"retention:loan:{loan.pk}:renewal").count() == 1
    )
    assert not Alert.objects.filter(loan=loan).exists()


@pytest.mark.django_db
def test_good_customer_once_per_customer_and_not_with_an_overdue_loan(
    customer_factory, loan_factory
):
    dues = months(dt.date(2025, 9, 10), 12)
    good = customer_factory()
    for _ in range(2):
        loan_factory(good, [(d, d if d < DAY else None) for d in dues])
    mixed = customer_factory()
    loan_factory(mixed, [(d, d if d < DAY else None) for d in dues])
    loan_factory(mixed, [(DAY - dt.timedelta(days=10), None)], dpd=10)
    run_monitoring(DAY)
    assert RetentionSuggestion.objects.filter(customer=good).count() == 1
    assert not RetentionSuggestion.objects.filter(customer=mixed).exists()
    # renewal is per loan: the clean loan of the mixed customer is still invited
    assert RetentionTrigger.objects.filter(customer=mixed, trigger="renewal").count() == 1


@pytest.mark.django_db
def test_retention_not_for_late_payer(customer_factory, loan_factory):
    dues = months(dt.date(2025, 9, 10), 12)
    schedule = [(d, d + dt.timedelta(days=5) if d < DAY else None) for d in dues]
    loan = loan_factory(customer_factory(), schedule)
    run_monitoring(DAY)
    assert not RetentionTrigger.objects.filter(loan=loan).exists()


@pytest.mark.django_db
def test_shipped_decision_tests_pass():
    from credo.rules.services import published_version, run_tests

    for key in ("monitoring.rules", "retention.triggers"):
        results = run_tests(published_version(key))
        assert results and all(r.passed for r in results), [
            (r.case.name, r.mismatches) for r in results
        ]


@pytest.mark.django_db
def test_audit_of_run(customer_factory, loan_factory):
    from credo.core.audit.models import AuditEntry

    _overdue_loan(customer_factory, loan_factory, 40)
    run_monitoring(DAY)
    assert AuditEntry.objects.filter(action="monitoring.run").exists()
    assert AlertAction.objects.count() >= 1


@pytest.mark.django_db
def test_alert_of_paid_off_loan_auto_closes(customer_factory, loan_factory):
    loan = _overdue_loan(customer_factory, loan_factory, 40)
    run_monitoring(DAY)
    Loan.objects.filter(pk=loan.pk).update(status="paid_off", dpd=0)
    run_monitoring(DAY + dt.timedelta(days=1))
    assert not Alert.objects.filter(loan=loan).exclude(status="closed").exists()
