from __future__ import annotations

import json

import pytest

from credo.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import UserFactory, role_with_perms
from tests.lending.test_api import auth

pytestmark = pytest.mark.django_db
API = "/api/v1/webhooks"


@pytest.fixture
def admin(db):
    role = role_with_perms("hook_api_role", "all", "webhooks.manage_webhookendpoint")
    return UserFactory(username="hook_api_admin", roles=[role])


def test_create_list_deliveries_redeliver(
    client, admin, outsider, receiver, django_capture_on_commit_callbacks
):
    headers = auth(admin)
    body = {"name": "API 端点", "url": receiver.url, "event_types": ["customer.create"]}
    resp = client.post(
        f"{API}/endpoints", json.dumps(body), content_type="application/json", **headers
    )
    assert resp.status_code == 201, resp.content
    data = resp.json()
    endpoint = WebhookEndpoint.objects.get()
    assert data["secret"] == endpoint.secret and data["max_attempts"] == 6
    listed = client.get(f"{API}/endpoints", **headers).json()
    assert listed["count"] == 1 and "secret" not in listed["items"][0]
    bad = client.post(
        f"{API}/endpoints",
        json.dumps({**body, "name": "x", "url": "ftp://h"}),
        content_type="application/json",
        **headers,
    )
    assert bad.status_code == 422 and "http://" in bad.json()["message"]
    assert client.get(f"{API}/endpoints", **auth(outsider)).status_code == 403

    from credo.webhooks.services import webhook_emit

    with django_capture_on_commit_callbacks(execute=True):
        d = webhook_emit(
            endpoint_id=endpoint.pk, event_type="x.y", payload={"a": 1}, idempotency_key="k"
        )
    items = client.get(
        f"{API}/endpoints/{endpoint.pk}/deliveries?status=succeeded", **headers
    ).json()["items"]
    assert [i["id"] for i in items] == [d.pk] and items[0]["response_code"] == 200
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"{API}/deliveries/{d.pk}/redeliver", **headers)
    assert resp.status_code == 201 and resp.json()["redelivery_of"] == d.pk
    assert WebhookDelivery.objects.count() == 2
    assert client.post(f"{API}/deliveries/999999/redeliver", **headers).status_code == 404
