"""Issue 16 item 10: malformed input (NUL bytes, broken multipart) is a 400, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from credo.accounts.models import DataScope
from credo.api.services import token_create
from credo.customers.models import Customer
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(org):
    role = RoleFactory(code="issue16_all", name="全部数据", data_scope=DataScope.ALL)
    return UserFactory(
        username="boss16", org_unit=org["head"], roles=[role], is_superuser=True, is_staff=True
    )


@pytest.fixture
def web(client: Client, boss) -> Client:
    client.force_login(boss)
    return client


@pytest.fixture
def bearer(boss) -> dict[str, str]:
    _t, plain = token_create(
        user=boss, name="t", scopes=["read", "write"], expires_in_days=1, actor=boss
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def assert_api_400(resp, where: str) -> dict:
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "bad_request" and body["message"]
    assert where in body["details"], body
    return body


# --- web list views ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/customers/?q=a%00b",
        "/customers/?industry=%00",
        "/leads/?q=%00",
        "/lending/loans/?q=%00",
        "/reports/list/?q=%00",
        "/customers/?q%00=x",
    ],
)
def test_web_list_with_nul_is_a_400_page(web, url):
    resp = web.get(url)
    assert resp.status_code == 400
    text = resp.content.decode()
    assert "请求无效" in text and "空字符" in text


def test_web_list_without_nul_still_works(web):
    assert web.get("/customers/?q=ab").status_code == 200
    assert web.get("/leads/?q=ab").status_code == 200
    assert web.get("/lending/loans/?q=ab").status_code == 200


def test_nul_in_path_is_refused(client):
    resp = client.get("/portal/abc%00def/")
    assert resp.status_code == 400


def test_nul_in_web_form_post_is_refused_before_the_view(web):
    before = Customer.objects.count()
    resp = web.post("/customers/new/?kind=individual", {"name": "张\x00三", "kind": "individual"})
    assert resp.status_code == 400
    assert Customer.objects.count() == before


# --- API ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/customers?q=a%00b",
        "/api/v1/leads?q=%00",
        "/api/v1/lending/loans?q=%00",
        "/api/v1/collections/cases?q=%00",
        "/api/v1/origination/applications?q=%00",
        "/api/v1/users?q=%00",
    ],
)
def test_api_list_with_nul_is_400_with_standard_body(client, bearer, url):
    assert_api_400(client.get(url, **bearer), "query.q")


def test_api_json_body_with_nul_is_400(client, bearer):
    before = Customer.objects.count()
    body = {"kind": "individual", "name": "张\u0000三"}
    resp = client.post(
        "/api/v1/customers", json.dumps(body), content_type="application/json", **bearer
    )
    assert_api_400(resp, "body.name")
    # a NUL in a key, nested in a list
    body = {"kind": "individual", "name": "x", "custom": {"a\u0000": [1, "\u0000"]}}
    resp = client.post(
        "/api/v1/customers", json.dumps(body), content_type="application/json", **bearer
    )
    assert_api_400(resp, "body.custom")
    assert Customer.objects.count() == before


def test_api_json_body_with_lone_surrogate_is_400(client, bearer):
    resp = client.post(
        "/api/v1/customers",
        b'{"kind": "individual", "name": "\\ud800"}',
        content_type="application/json",
        **bearer,
    )
    assert_api_400(resp, "body.name")


def test_escaped_backslash_u0000_is_plain_text_not_nul(client, bearer):
    """``"\\\\u0000"`` is six ordinary characters, not a NUL: not refused by the middleware."""
    resp = client.get("/api/v1/customers?q=%5Cu0000", **bearer)
    assert resp.status_code == 200


@pytest.mark.parametrize(
    "url", ["/api/v1/origination/applications/1/documents", "/api/v1/scorecard/versions"]
)
def test_multipart_without_boundary_is_400(client, bearer, url):
    resp = client.generic(
        "POST",
        url,
        b"--x\r\nContent-Disposition: form-data; name=item\r\n\r\nA\r\n--x--\r\n",
        content_type="multipart/form-data",
        **bearer,
    )
    assert_api_400(resp, "body")


def test_multipart_without_boundary_on_a_web_form_is_400(web):
    resp = web.generic("POST", "/customers/import/", b"garbage", content_type="multipart/form-data")
    assert resp.status_code == 400


def test_nul_in_bearer_header_is_400(client):
    resp = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer credo_ab\x00cd_x")
    assert_api_400(resp, "header.authorization")


def test_api_multipart_error_handler_without_middleware(client, bearer, settings):
    """Defence in depth: with the middleware removed, the API's own handler answers 400."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("BadInputMiddleware")]
    resp = client.generic(
        "POST", "/api/v1/scorecard/versions", b"x", content_type="multipart/form-data", **bearer
    )
    assert resp.status_code == 400, resp.content
    assert resp.json() == {"code": "bad_request", "message": "请求格式不正确", "details": {}}


@pytest.mark.parametrize(
    "url",
    ["/customers/?owner=%C2%B2", "/leads/?owner=%C2%B2", "/lending/loans/new/?customer=%C2%B2"],
)
def test_superscript_digit_in_numeric_filter_is_ignored_not_500(web, url):
    """``"²".isdigit()`` is True but ``int("²")`` fails: numeric filters use isdecimal()."""
    assert web.get(url).status_code in (200, 403)
