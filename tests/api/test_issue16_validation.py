"""Issue 16 item 10 (API): schema-violating bodies, page bounds, documented status codes."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from credo.accounts.models import DataScope
from credo.api.api import api
from credo.api.services import token_create
from credo.customers import services as customer_services
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def boss(org):
    role = RoleFactory(code="issue16_api", name="全部数据", data_scope=DataScope.ALL)
    return UserFactory(username="boss16api", org_unit=org["head"], roles=[role], is_superuser=True)


@pytest.fixture
def h(boss) -> dict[str, str]:
    _t, plain = token_create(
        user=boss, name="t", scopes=["read", "write"], expires_in_days=1, actor=boss
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def send(client: Client, method: str, url: str, raw: str, h: dict[str, str]):
    return client.generic(method, url, raw, content_type="application/json", **h)


@pytest.mark.parametrize("raw", ["[null,null]", "[]", '"abc"', "5", "null", "true"])
def test_body_that_is_not_an_object_is_422(client, h, boss, individual_data_factory, raw):
    customer = customer_services.customer_create(
        actor=boss, data=individual_data_factory(1), source="api"
    )
    before = customer.version
    resp = send(client, "PATCH", f"{API}/customers/{customer.pk}", raw, h)
    assert resp.status_code == 422, resp.content
    body = resp.json()
    assert body["code"] == "validation_error" and body["details"] == {
        "body": ["请求体必须是 JSON 对象"]
    }
    customer.refresh_from_db()
    assert customer.version == before


def test_object_body_still_accepted(client, h, boss, individual_data_factory):
    customer = customer_services.customer_create(
        actor=boss, data=individual_data_factory(2), source="api"
    )
    resp = send(client, "PATCH", f"{API}/customers/{customer.pk}", '{"address": "太原"}', h)
    assert resp.status_code == 200, resp.content
    assert resp.json()["address"] == "太原"


def test_unparsable_json_stays_400(client, h):
    resp = send(client, "POST", f"{API}/reports/query", "{not json", h)
    assert resp.status_code == 400 and resp.json()["code"] == "bad_request"


@pytest.mark.parametrize(
    "url",
    [
        "/users",
        "/customers",
        "/lending/loans",
        "/origination/applications",
        "/collections/cases",
        "/monitoring/alerts",
        "/notify/messages",
        "/notify/inbox",
        "/leads",
    ],
)
@pytest.mark.parametrize("params", [{"page_size": 0}, {"page_size": 101}, {"page": 0}])
def test_page_bounds_are_422(client, h, url, params):
    resp = client.get(f"{API}{url}", params, **h)
    assert resp.status_code == 422, resp.content
    body = resp.json()
    assert body["code"] == "validation_error"
    assert any(key.endswith(next(iter(params))) for key in body["details"]), body


def _openapi() -> dict:
    return api.get_openapi_schema(path_prefix="/api/v1")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users",
        "/api/v1/customers",
        "/api/v1/lending/loans",
        "/api/v1/origination/applications",
        "/api/v1/notify/inbox",
    ],
)
def test_page_bounds_are_documented(path):
    params = {p["name"]: p["schema"] for p in _openapi()["paths"][path]["get"]["parameters"]}
    assert params["page"]["minimum"] == 1
    size = params["page_size"]
    options = size.get("anyOf", [size])
    number = next(o for o in options if o.get("type") == "integer")
    assert (number["minimum"], number["maximum"]) == (1, 100)


def test_every_operation_documents_its_error_codes():
    missing = []
    for path, item in _openapi()["paths"].items():
        for method, op in item.items():
            responses = {str(code): value for code, value in op["responses"].items()}
            codes = set(responses)
            public = not op.get("security")
            needed = {"400", "422"} if public else {"400", "401", "403", "422"}
            if path.endswith("/health"):
                continue
            if "{" in path:
                needed.add("404")
            if not needed <= codes:
                missing.append(f"{method.upper()} {path}: {sorted(needed - codes)}")
            for code in codes - {"200", "201", "202", "204"}:
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorOut"), (path, code)
    assert missing == []


def test_report_query_limit_documented_and_enforced(client, h):
    query = _openapi()["components"]["schemas"]["QueryIn"]["properties"]["limit"]
    number = next(o for o in query.get("anyOf", [query]) if o.get("type") == "integer")
    assert number["minimum"] == 1
    body = {"dataset": "loans", "measures": ["count"], "limit": 0}
    resp = send(client, "POST", f"{API}/reports/query", json.dumps(body), h)
    assert resp.status_code == 422
