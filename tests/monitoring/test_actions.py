"""Alert handling actions, permissions and scope."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.core.todo.models import Todo
from credo.customers.models import CustomerEvent
from credo.lending.models import CreditLimit
from credo.monitoring import services
from credo.monitoring.batch import run_monitoring
from credo.monitoring.errors import InvalidAction, InvalidState
from credo.monitoring.models import Alert
from tests.monitoring.conftest import DAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(customer_factory, loan_factory, risk_manager, owner):
    cust = customer_factory()
    CreditLimit.objects.create(customer=cust, amount=Money("500000"), updated_by=owner)
    due = DAY - dt.timedelta(days=35)
    loan_factory(cust, [(due, None), (DAY + dt.timedelta(days=20), None)], dpd=35)
    run_monitoring(DAY)
    return Alert.objects.get(rule_code="dpd_30")


def test_acknowledge_and_contact(alert, risk_manager):
    services.alert_acknowledge(alert=alert, actor=risk_manager)
    alert.refresh_from_db()
    assert alert.status == "acknowledged"
    with pytest.raises(InvalidState):
        services.alert_acknowledge(alert=alert, actor=risk_manager)
    with pytest.raises(InvalidAction):
        services.alert_contact(alert=alert, channel="phone", summary=" ", actor=risk_manager)
    services.alert_contact(
        alert=alert, channel="phone", summary="客户称下周还款", actor=risk_manager
    )
    alert.refresh_from_db()
    assert alert.status == "in_progress"
    assert alert.actions.filter(kind="contact", detail__channel="phone").exists()
    assert (
        CustomerEvent.objects.filter(
            customer=alert.customer, kind="alert", source="monitoring"
        ).count()
        >= 3
    )
    assert AuditEntry.objects.filter(action="monitoring.alert_contact").exists()


def test_request_guarantee_creates_todo(alert, risk_manager, owner):
    services.alert_request_guarantee(alert=alert, note="追加房产抵押", actor=risk_manager)
    assert Todo.objects.filter(user=owner, dedupe_key=f"alert:{alert.pk}:guarantee").exists()


def test_freeze_limit(alert, risk_manager):
    with pytest.raises(InvalidAction):
        services.alert_freeze_limit(alert=alert, reason="", actor=risk_manager)
    assert CreditLimit.objects.get(customer=alert.customer).frozen is False
    services.alert_freeze_limit(alert=alert, reason="逾期35天", actor=risk_manager)
    limit = CreditLimit.objects.get(customer=alert.customer)
    assert limit.frozen is True and limit.reason == "逾期35天"
    assert AuditEntry.objects.filter(action="credit_limit.freeze").exists()
    assert AuditEntry.objects.filter(action="monitoring.alert_freeze_limit").exists()


def test_adjust_limit(alert, risk_manager):
    with pytest.raises(InvalidAction):
        services.alert_adjust_limit(alert=alert, amount="abc", reason="x", actor=risk_manager)
    services.alert_adjust_limit(alert=alert, amount="200000", reason="降额", actor=risk_manager)
    assert CreditLimit.objects.get(customer=alert.customer).amount.fen == 20000000


def test_escalate(alert, risk_manager, management):
    services.alert_escalate(alert=alert, note="金额较大", actor=risk_manager)
    alert.refresh_from_db()
    assert alert.status == "escalated" and alert.assignee == management


def test_escalate_without_management_refused(alert, risk_manager):
    with pytest.raises(InvalidState):
        services.alert_escalate(alert=alert, note="x", actor=risk_manager)
    alert.refresh_from_db()
    assert alert.status == "open" and alert.assignee == risk_manager


def test_close_requires_conclusion(alert, risk_manager):
    with pytest.raises(InvalidAction):
        services.alert_close(alert=alert, conclusion="  ", actor=risk_manager)
    alert.refresh_from_db()
    assert alert.status == "open"
    services.alert_close(alert=alert, conclusion="已冻结额度，移交催收", actor=risk_manager)
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.closed_by == risk_manager
    with pytest.raises(InvalidState):
        services.alert_contact(alert=alert, channel="phone", summary="x", actor=risk_manager)


def test_views_for_risk_manager(client, alert, risk_manager):
    client.force_login(risk_manager)
    r = client.get("/monitoring/alerts/")
    assert r.status_code == 200 and "逾期30天以上" in r.content.decode()
    r = client.get("/monitoring/alerts/?view=board")
    assert r.status_code == 200
    r = client.get(f"/monitoring/alerts/{alert.pk}/")
    assert r.status_code == 200 and "指标快照" in r.content.decode()
    r = client.post(f"/monitoring/alerts/{alert.pk}/close/", {"close-conclusion": ""})
    assert r.status_code == 200
    alert.refresh_from_db()
    assert alert.status == "open"
    r = client.post(f"/monitoring/alerts/{alert.pk}/close/", {"close-conclusion": "处理完毕"})
    assert r.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "closed"


def test_outsider_and_owner(client, alert, outsider, owner):
    from django.contrib.auth.models import Permission

    for user in (outsider, owner):
        for role in user.roles.all():
            role.permissions.add(Permission.objects.get(codename="view_alert"))
    client.force_login(outsider)
    assert client.get(f"/monitoring/alerts/{alert.pk}/").status_code == 404
    assert alert.customer.name not in client.get("/monitoring/alerts/").content.decode()
    # no handle permission → 403 and nothing changed
    assert (
        client.post(f"/monitoring/alerts/{alert.pk}/close/", {"close-conclusion": "x"}).status_code
        == 403
    )
    client.logout()
    client.force_login(owner)  # the account manager: own customer
    assert client.get(f"/monitoring/alerts/{alert.pk}/").status_code == 200
    assert (
        client.post(f"/monitoring/alerts/{alert.pk}/close/", {"close-conclusion": "x"}).status_code
        == 403
    )
    alert.refresh_from_db()
    assert alert.status == "open"


def test_retention_approval(client, customer_factory, loan_factory, risk_manager, owner):
    from credo.monitoring.models import RetentionSuggestion
    from tests.monitoring.conftest import months

    dues = months(dt.date(2025, 9, 10), 12)
    loan = loan_factory(customer_factory(), [(d, d if d < DAY else None) for d in dues])
    run_monitoring(DAY)
    s = RetentionSuggestion.objects.get(loan=loan)
    client.force_login(risk_manager)
    assert "优质客户" in client.get("/monitoring/retention/").content.decode()
    r = client.post(f"/monitoring/retention/{s.pk}/decide/", {"decision": "approve"})
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.status == "approved"
    assert CreditLimit.objects.get(customer=loan.customer).amount == s.suggested_amount
    r = client.post(f"/monitoring/retention/{s.pk}/decide/", {"decision": "approve"})
    assert CreditLimit.objects.get(customer=loan.customer).version == 1
