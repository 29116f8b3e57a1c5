"""Issue 17: the alert and retention machines, written out literally; the services refuse
what the table refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.core import fsm
from credo.core.money import Money
from credo.lending.models import CreditLimit
from credo.monitoring import services, states
from credo.monitoring.batch import run_monitoring
from credo.monitoring.errors import InvalidState
from credo.monitoring.models import Alert, RetentionSuggestion
from tests.fsm_tables import assert_table
from tests.monitoring.conftest import DAY

A = Alert.Status
R = RetentionSuggestion.Status

ALERT_ALLOWED = {
    ("open", "acknowledged"),
    ("open", "in_progress"),
    ("open", "escalated"),
    ("open", "closed"),
    ("acknowledged", "in_progress"),
    ("acknowledged", "escalated"),
    ("acknowledged", "closed"),
    ("in_progress", "escalated"),
    ("in_progress", "closed"),
    ("escalated", "closed"),
}
RETENTION_ALLOWED = {("pending", "approved"), ("pending", "rejected")}


def test_alert_machine():
    assert fsm.machine_for(Alert) is states.ALERT_MACHINE
    assert_table(states.ALERT_MACHINE, A.values, ALERT_ALLOWED)


def test_retention_machine():
    assert_table(fsm.machine_for(RetentionSuggestion), R.values, RETENTION_ALLOWED)


def test_initial_states():
    assert states.ALERT_MACHINE.initial == {"open"}
    assert states.ALERT_MACHINE.final_states() == ["closed"]
    assert states.RETENTION_MACHINE.initial == {"pending"}


@pytest.mark.django_db
def test_handled_alert_cannot_be_acknowledged(customer_factory, loan_factory, risk_manager, owner):
    cust = customer_factory()
    CreditLimit.objects.create(customer=cust, amount=Money("500000"), updated_by=owner)
    loan_factory(
        cust,
        [(DAY - dt.timedelta(days=35), None), (DAY + dt.timedelta(days=20), None)],
        dpd=35,
    )
    run_monitoring(DAY)
    alert = Alert.objects.get(rule_code="dpd_30")
    services.alert_contact(alert=alert, channel="phone", summary="已联系", actor=risk_manager)
    alert.refresh_from_db()
    assert alert.status == A.IN_PROGRESS
    with pytest.raises(InvalidState):
        services.alert_acknowledge(alert=alert, actor=risk_manager)
    with pytest.raises(fsm.TransitionRefused):
        fsm.transition(alert, A.OPEN)
    services.alert_close(alert=alert, conclusion="已处理", actor=risk_manager)
    with pytest.raises(InvalidState):
        services.alert_close(alert=alert, conclusion="再次关闭", actor=risk_manager)
