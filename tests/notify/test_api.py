from __future__ import annotations

import pytest
from django.test import Client

from credo.notify.models import Message
from credo.notify.services import notify
from tests.lending.test_api import auth
from tests.notify.conftest import at
from tests.notify.test_services import CTX

pytestmark = pytest.mark.django_db
API = "/api/v1/notify"


def test_messages_admin_only(client: Client, notify_admin, outsider, borrower):
    notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    resp = client.get(f"{API}/messages?status=queued", **auth(notify_admin))
    assert resp.status_code == 200, resp.content
    [item] = resp.json()["items"]
    assert item["address"] == "139****0001" and item["status"] == "queued"
    assert client.get(f"{API}/messages", **auth(outsider)).status_code == 403


def test_inbox_read(client: Client, owner, colleague):
    [m] = notify(template="test.staff", context={"title": "x"}, user=owner, now=at(10))
    data = client.get(f"{API}/inbox", **auth(owner)).json()
    assert data["unread"] == 1 and data["items"][0]["id"] == m.pk
    assert client.get(f"{API}/inbox", **auth(colleague)).json()["count"] == 0
    assert client.post(f"{API}/inbox/{m.pk}/read", **auth(colleague)).status_code == 404
    resp = client.post(f"{API}/inbox/{m.pk}/read", **auth(owner))
    assert resp.status_code == 200 and resp.json()["read_at"]
    assert client.get(f"{API}/inbox?unread=true", **auth(owner)).json()["count"] == 0


def test_retry(client: Client, notify_admin, outsider, borrower):
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    resp = client.post(f"{API}/messages/{m.pk}/retry", **auth(notify_admin))
    assert resp.status_code == 409 and resp.json()["code"] == "invalid_state"
    Message.objects.filter(pk=m.pk).update(status="failed")
    assert client.post(f"{API}/messages/{m.pk}/retry", **auth(outsider)).status_code == 403
    resp = client.post(f"{API}/messages/{m.pk}/retry", **auth(notify_admin))
    assert resp.status_code == 200 and resp.json()["status"] == "queued"
    assert (
        client.post(
            f"{API}/messages/{m.pk}/retry", **auth(notify_admin, scopes=("read",))
        ).status_code
        == 403
    )
