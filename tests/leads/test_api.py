import json

import pytest
from django.test import Client

from credo.api.services import token_create
from credo.leads.models import Lead
from tests.leads.conftest import perms

pytestmark = pytest.mark.django_db
API = "/api/v1/leads"


def auth(user, scopes=("read", "write")):
    _token, plain = token_create(
        user=user, name="t", scopes=list(scopes), expires_in_days=30, actor=user
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def post(client, url, body, headers, key=None):
    extra = dict(headers)
    if key:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def api_user(admin_user):
    return admin_user


BODY = {
    "name": "晋阳商贸",
    "phone": "13800001234",
    "source": "channel",
    "campaign": "合作方A",
    "region_code": "140105",
    "business_type": "operating",
    "requested_amount": "800000",
}


def test_webhook_idempotent(client: Client, api_user, owner, colleague):
    headers = auth(api_user)
    first = post(client, API, BODY, headers, key="evt-1")
    assert first.status_code == 201, first.content
    again = post(client, API, BODY, headers, key="evt-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Lead.objects.count() == 1
    data = first.json()
    assert data["owner"] in ("owner", "colleague") and data["assignment"]["version"] == 1
    assert data["phone_masked"] == "138****1234"
    conflict = post(client, API, {**BODY, "name": "另一家"}, headers, key="evt-1")
    assert conflict.status_code == 422


def test_webhook_validation_nothing_stored(client, api_user):
    resp = post(client, API, {**BODY, "phone": "1", "region_code": "000000"}, auth(api_user))
    assert resp.status_code == 422
    assert set(resp.json()["details"]) >= {"body.phone", "body.region_code"}
    assert Lead.objects.count() == 0


def test_list_scoped_and_detail(client, api_user, owner, outsider, lead_perms):
    post(client, API, BODY, auth(api_user))
    lead = Lead.objects.get()
    assert lead.owner == owner or lead.owner.team == owner.team
    mine = client.get(API, **auth(lead.owner)).json()
    assert mine["count"] == 1
    assert client.get(API, **auth(outsider)).json()["count"] == 0
    assert client.get(f"{API}/{lead.pk}", **auth(outsider)).status_code == 404
    resp = client.patch(
        f"{API}/{lead.pk}",
        json.dumps({"campaign": "新活动"}),
        content_type="application/json",
        **auth(lead.owner),
    )
    assert resp.status_code == 200 and resp.json()["campaign"] == "新活动"


def test_follow_up_stage_convert(client, api_user, owner, lead_perms):
    post(client, API, {**BODY, "uscc": "", "phone": "13800009999"}, auth(api_user))
    lead = Lead.objects.get()
    headers = auth(lead.owner)
    resp = post(client, f"{API}/{lead.pk}/follow-ups", {"kind": "call", "outcome": "接通"}, headers)
    assert resp.status_code == 201 and resp.json()["stage"] == "contacted"
    resp = post(client, f"{API}/{lead.pk}/stage", {"stage": "converted"}, headers)
    assert resp.status_code == 409 and resp.json()["code"] == "invalid_transition"
    resp = post(client, f"{API}/{lead.pk}/stage", {"stage": "lost"}, headers)
    assert resp.status_code == 409
    assert Lead.objects.get().stage == "contacted"
    resp = post(client, f"{API}/{lead.pk}/convert", {"kind": "enterprise"}, headers)
    assert resp.status_code == 422  # enterprise needs a USCC
    from tests.customers.conftest import make_id

    resp = post(
        client,
        f"{API}/{lead.pk}/convert",
        {"kind": "individual", "id_number": make_id(2)},
        headers,
        key="conv-1",
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["lead"]["stage"] == "converted" and not resp.json()["linked_existing"]


def test_assign_requires_permission(client, api_user, owner, colleague, lead_perms):
    post(client, API, BODY, auth(api_user))
    lead = Lead.objects.get()
    resp = post(client, f"{API}/{lead.pk}/assign", {}, auth(lead.owner))
    assert resp.status_code == 403
    resp = post(client, f"{API}/{lead.pk}/assign", {"username": "colleague"}, auth(api_user))
    assert resp.status_code == 200 and resp.json()["owner"] == "colleague"


def test_read_token_cannot_write(client, api_user):
    assert post(client, API, BODY, auth(api_user, scopes=("read",))).status_code == 403
    assert perms("add_lead").exists()
