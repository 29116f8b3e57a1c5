import json

import pytest

from credo.accounts.models import FieldPermission
from credo.api.services import token_create
from credo.core.audit.models import AuditEntry
from credo.core.customfields.models import CustomField
from credo.customers import services
from credo.customers.models import Customer
from tests.customers.conftest import make_id, make_uscc

pytestmark = pytest.mark.django_db
BASE = "/api/v1/customers"


@pytest.fixture
def api(client, owner, customer_perms):
    _token, plain = token_create(
        user=owner, name="t", scopes=["read", "write"], expires_in_days=30, actor=owner
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}

    def call(method, path, body=None, **extra):
        kwargs = {**headers, **extra}
        if body is not None:
            return getattr(client, method)(
                path, data=json.dumps(body), content_type="application/json", **kwargs
            )
        return getattr(client, method)(path, **kwargs)

    return call


def test_create_is_idempotent_and_validates(api, enterprise_data):
    CustomField.objects.create(
        entity="customer", key="employees", label="员工人数", field_type="number", min_value=1
    )
    body = {**enterprise_data, "custom": {"employees": "120"}}
    first = api("post", BASE, body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api("post", BASE, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and again.status_code == 201
    assert first.json() == again.json() and Customer.objects.count() == 1
    assert first.json()["custom"] == {"employees": "120"}
    dup = api("post", BASE, body, HTTP_IDEMPOTENCY_KEY="k-2")
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate_customer"
    assert dup.json()["details"]["existing_id"] == first.json()["id"]
    bad = api(
        "post",
        BASE,
        {**enterprise_data, "uscc": make_uscc(2)[:-1] + "0", "custom": {"employees": "0"}},
    )
    assert bad.status_code == 422 and "custom.employees" in bad.json()["details"]


def test_detail_masks_unless_permitted_and_audits_clear_reads(
    api, owner, manager_role, individual_data
):
    c = services.customer_create(actor=owner, data=individual_data)
    body = api("get", f"{BASE}/{c.pk}").json()
    assert body["id_number"] != individual_data["id_number"] and "*" in body["id_number"]
    FieldPermission.objects.create(
        role=manager_role, field_key="customers.customer.id_number", can_view=True
    )
    body = api("get", f"{BASE}/{c.pk}").json()
    assert body["id_number"] == individual_data["id_number"]
    assert AuditEntry.objects.filter(action="sensitive.read").count() == 1
    listing = api("get", f"{BASE}?q={individual_data['id_number']}").json()
    assert listing["count"] == 1 and "*" in listing["items"][0]["id_number"]


def test_scope_404_for_outsider(client, owner, outsider, customer_perms, enterprise_data):
    c = services.customer_create(actor=owner, data=enterprise_data)
    _t, plain = token_create(
        user=outsider, name="t", scopes=["read"], expires_in_days=1, actor=outsider
    )
    resp = client.get(f"{BASE}/{c.pk}", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    listing = client.get(BASE, HTTP_AUTHORIZATION=f"Bearer {plain}").json()
    assert listing["count"] == 0


def test_patch_version_relations_timeline_and_pull(api, owner, enterprise_data, individual_data):
    company = services.customer_create(actor=owner, data=enterprise_data)
    person = services.customer_create(actor=owner, data=individual_data)
    ok = api("patch", f"{BASE}/{company.pk}", {"version": 1, "address": "新址"})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = api("patch", f"{BASE}/{company.pk}", {"version": 1, "address": "旧"})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    rel = api(
        "post",
        f"{BASE}/{company.pk}/relations",
        {"other_id": person.pk, "kind": "shareholder", "share_pct": "30"},
    )
    assert rel.status_code == 201 and rel.json()["share_pct"] == "30.000"
    refused = api("post", f"{BASE}/{company.pk}/pulls/bureau")
    assert refused.status_code == 403 and refused.json()["code"] == "authorization_missing"
    pulled = api("post", f"{BASE}/{company.pk}/pulls/registry")
    assert pulled.status_code == 201 and pulled.json()["status"] == "ok"
    timeline = api("get", f"{BASE}/{company.pk}/timeline?kind=relation").json()
    assert timeline["count"] == 1 and timeline["items"][0]["kind"] == "relation"
    schema = api("get", f"{BASE}/custom-fields/schema")
    assert schema.status_code == 200 and schema.json()["type"] == "object"
    assert make_id(7) == individual_data["id_number"]
