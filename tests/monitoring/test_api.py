from __future__ import annotations

import datetime as dt
import json

import pytest

from credo.core.money import Money
from credo.lending.models import CreditLimit
from credo.monitoring.batch import run_monitoring
from credo.monitoring.models import Alert
from tests.lending.test_api import auth
from tests.monitoring.conftest import DAY

pytestmark = pytest.mark.django_db
API = "/api/v1/monitoring"


@pytest.fixture
def alert(customer_factory, loan_factory, risk_manager, owner):
    cust = customer_factory()
    CreditLimit.objects.create(customer=cust, amount=Money("500000"), updated_by=owner)
    loan_factory(cust, [(DAY - dt.timedelta(days=40), None)], dpd=40)
    run_monitoring(DAY)
    return Alert.objects.get(rule_code="dpd_30")


def test_list_detail_and_actions(client, alert, risk_manager):
    h = auth(risk_manager)
    r = client.get(f"{API}/alerts?severity=high&rule=dpd_30", **h)
    assert r.status_code == 200 and r.json()["count"] == 1
    r = client.get(f"{API}/alerts/{alert.pk}", **h)
    assert r.json()["snapshot"]["dpd"] == 40
    body = json.dumps({"action": "freeze_limit", "reason": "API 冻结"})
    r = client.post(
        f"{API}/alerts/{alert.pk}/actions",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
        **h,
    )
    assert r.status_code == 200, r.content
    r2 = client.post(
        f"{API}/alerts/{alert.pk}/actions",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
        **h,
    )
    assert r2.status_code == 200
    assert alert.actions.filter(kind="freeze_limit").count() == 1
    assert CreditLimit.objects.get(customer=alert.customer).frozen
    r = client.post(
        f"{API}/alerts/{alert.pk}/actions",
        json.dumps({"action": "close"}),
        content_type="application/json",
        **h,
    )
    assert r.status_code == 422
    alert.refresh_from_db()
    assert alert.status != "closed"


def test_outsider_gets_404(client, alert, outsider):
    from django.contrib.auth.models import Permission

    outsider.roles.first().permissions.add(Permission.objects.get(codename="view_alert"))
    h = auth(outsider)
    assert client.get(f"{API}/alerts/{alert.pk}", **h).status_code == 404
    assert client.get(f"{API}/alerts", **h).json()["count"] == 0
    r = client.post(
        f"{API}/alerts/{alert.pk}/actions",
        json.dumps({"action": "acknowledge"}),
        content_type="application/json",
        **h,
    )
    assert r.status_code == 403
