from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from credo.api.models import ApiToken, IdempotencyKey
from credo.api.services import token_revoke
from credo.core.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

API = "/api/v1"


def assert_error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    return body


def test_health_needs_no_auth(client: Client):
    resp = client.get(f"{API}/health")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"


def test_openapi_json_loads(client: Client):
    resp = client.get(f"{API}/openapi.json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    assert f"{API}/me" in paths and f"{API}/tokens" in paths


def test_docs_redirects_to_self_hosted_page(client: Client, owner):
    resp = client.get(f"{API}/docs")
    assert resp.status_code == 302
    assert resp["Location"] == "/system/api/docs/"
    client.force_login(owner)
    page = client.get("/system/api/docs/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "/api/v1/tokens" in text
    # nothing loaded from a CDN (a plain "cdn" substring check failed when the random CSRF
    # token happened to contain those letters)
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), "external asset"
    assert not re.search(r"//[^\"'\s]*cdn", text, re.IGNORECASE)


def test_me_with_valid_token(client: Client, owner, make_token, bearer):
    token, plain = make_token(owner)
    assert plain.startswith(f"credo_{token.prefix}_")
    resp = client.get(f"{API}/me", **bearer(plain))
    assert resp.status_code == 200
    body = resp.json()
    assert body["username"] == "owner"
    assert body["display_name"] == "张经理"
    assert body["data_scope"] == "own"
    assert body["roles"] == [{"code": "test_account_manager", "name": "测试客户经理"}]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_secret_is_never_stored_or_audited(owner, make_token):
    token, plain = make_token(owner)
    secret = plain.split("_", 2)[2]
    assert secret not in token.token_hash
    entry = AuditEntry.objects.get(action="api.token_create")
    assert secret not in json.dumps(entry.changes) + json.dumps(entry.metadata)
    assert entry.object_id == str(token.pk)


@pytest.mark.parametrize(
    "header",
    [None, "Bearer nonsense", "Bearer credo_abcdefgh_forged", "Basic Zm9vOmJhcg=="],
)
def test_missing_or_forged_token_is_401(client: Client, owner, make_token, header):
    make_token(owner)
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    body = assert_error(client.get(f"{API}/me", **extra), 401, "unauthorized")
    assert body["details"] == {}


def test_forged_secret_with_real_prefix_is_401(client: Client, owner, make_token, bearer):
    token, plain = make_token(owner)
    assert_error(client.get(f"{API}/me", **bearer(plain[:-3] + "xyz")), 401, "unauthorized")


def test_revoked_token_is_401(client: Client, owner, make_token, bearer):
    token, plain = make_token(owner)
    token_revoke(token=token, actor=owner)
    assert AuditEntry.objects.filter(action="api.token_revoke").count() == 1
    assert_error(client.get(f"{API}/me", **bearer(plain)), 401, "unauthorized")


def test_expired_token_is_401(client: Client, owner, make_token, bearer):
    token, plain = make_token(owner)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(client.get(f"{API}/me", **bearer(plain)), 401, "unauthorized")


def test_inactive_users_token_is_401(client: Client, owner, make_token, bearer):
    _token, plain = make_token(owner)
    owner.is_active = False
    owner.save()
    # issue 16: a deactivated user's token is suspended with its own code
    assert_error(client.get(f"{API}/me", **bearer(plain)), 401, "account_inactive")


def test_read_only_token_cannot_write(client: Client, owner, make_token, bearer):
    token, plain = make_token(owner, scopes=["read"])
    resp = client.delete(f"{API}/tokens/{token.pk}", **bearer(plain))
    body = assert_error(resp, 403, "insufficient_scope")
    assert body["details"]["required_scope"] == "write"
    token.refresh_from_db()
    assert token.revoked_at is None


def test_session_auth_works_for_browser(client: Client, owner):
    client.force_login(owner)
    assert client.get(f"{API}/me").json()["username"] == "owner"


def test_password_only_session_of_2fa_user_is_401(client: Client, owner):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=owner, name="手机", confirmed=True)
    client.force_login(owner)
    assert_error(client.get(f"{API}/me"), 401, "unauthorized")


def test_session_post_requires_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    resp = client.post(f"{API}/tokens", {"name": "x"}, content_type="application/json")
    assert_error(resp, 403, "csrf_failed")
    assert ApiToken.objects.count() == 0


def test_404_and_422_error_bodies(client: Client, owner, make_token, bearer):
    _token, plain = make_token(owner)
    assert_error(client.delete(f"{API}/tokens/999999", **bearer(plain)), 404, "not_found")
    client.force_login(owner)  # only a session may create tokens (issue 16)
    resp = client.post(f"{API}/tokens", {"scopes": ["read"]}, content_type="application/json")
    body = assert_error(resp, 422, "validation_error")
    assert "body.payload.name" in body["details"]
    resp = client.post(
        f"{API}/tokens", {"name": "x", "scopes": ["admin"]}, content_type="application/json"
    )
    assert_error(resp, 422, "token_invalid")


def test_unknown_api_path_is_404(client: Client):
    assert client.get(f"{API}/does-not-exist").status_code == 404


def test_create_list_and_revoke_own_tokens(client: Client, owner, outsider, make_token, bearer):
    _t, plain = make_token(owner)
    other, _p = make_token(outsider)
    client.force_login(owner)  # only a session may create tokens (issue 16)
    resp = client.post(
        f"{API}/tokens",
        {"name": "同步脚本", "scopes": ["read"], "expires_in_days": 7},
        content_type="application/json",
    )
    client.logout()
    assert resp.status_code == 201
    created = resp.json()
    assert created["token"].startswith(f"credo_{created['prefix']}_")
    assert created["scopes"] == ["read"]
    listing = client.get(f"{API}/tokens", **bearer(plain)).json()
    assert listing["count"] == 2
    assert all("token" not in item for item in listing["items"])
    # someone else's token is invisible: 404, and it stays active
    assert_error(client.delete(f"{API}/tokens/{other.pk}", **bearer(plain)), 404, "not_found")
    other.refresh_from_db()
    assert other.revoked_at is None
    resp = client.delete(f"{API}/tokens/{created['id']}", **bearer(plain))
    assert resp.status_code == 204
    assert ApiToken.objects.get(pk=created["id"]).revoked_at is not None
    assert client.get(f"{API}/me", **bearer(created["token"])).status_code == 401


def test_idempotent_replay_and_conflict(client: Client, owner, make_token, bearer):
    make_token(owner)
    client.force_login(owner)  # only a session may create tokens (issue 16)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    payload = {"name": "一次", "scopes": ["read"]}
    first = client.post(f"{API}/tokens", payload, content_type="application/json", **headers)
    second = client.post(f"{API}/tokens", payload, content_type="application/json", **headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert ApiToken.objects.filter(name="一次").count() == 1
    assert AuditEntry.objects.filter(action="api.token_create").count() == 2  # fixture + one
    conflict = client.post(
        f"{API}/tokens", {"name": "另一个"}, content_type="application/json", **headers
    )
    assert_error(conflict, 422, "idempotency_conflict")
    assert not ApiToken.objects.filter(name="另一个").exists()


def test_idempotency_key_is_per_user(client: Client, owner, outsider):
    payload = {"name": "同名", "scopes": ["read"]}
    for user in (owner, outsider):
        client.force_login(user)  # only a session may create tokens (issue 16)
        resp = client.post(
            f"{API}/tokens",
            payload,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="same",
        )
        assert resp.status_code == 201
    assert ApiToken.objects.filter(name="同名").count() == 2


def test_failed_request_does_not_burn_the_key(client: Client, owner):
    client.force_login(owner)  # only a session may create tokens (issue 16)
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-me"}
    bad = client.post(
        f"{API}/tokens",
        {"name": "x", "scopes": ["nope"]},
        content_type="application/json",
        **headers,
    )
    assert bad.status_code == 422
    assert not IdempotencyKey.objects.filter(key="retry-me").exists()


def test_purge_idempotency_keys_task(owner, settings):
    from credo.api.tasks import purge_idempotency_keys

    old = IdempotencyKey.objects.create(
        user=owner, key="old", method="POST", path="/", request_hash="x"
    )
    IdempotencyKey.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS + 1)
    )
    IdempotencyKey.objects.create(user=owner, key="new", method="POST", path="/", request_hash="y")
    result = purge_idempotency_keys.enqueue()
    assert result.return_value == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_users_requires_permission(client: Client, owner, admin_user, make_token, bearer):
    _t, plain = make_token(owner)
    assert_error(client.get(f"{API}/users", **bearer(plain)), 403, "forbidden")
    _t2, admin_plain = make_token(admin_user)
    body = client.get(f"{API}/users", **bearer(admin_plain)).json()
    assert body["count"] == 2
    assert {u["username"] for u in body["items"]} == {"apiadmin", "owner"}
    found = client.get(f"{API}/users", {"q": "张经理"}, **bearer(admin_plain)).json()
    assert [u["username"] for u in found["items"]] == ["owner"]


def test_pagination_bounds(client: Client, admin_user, make_token, bearer):
    from tests.factories import UserFactory

    for i in range(24):
        UserFactory(username=f"u{i:02d}")
    _t, plain = make_token(admin_user)
    first = client.get(f"{API}/users", **bearer(plain)).json()
    assert (first["count"], first["page"], first["page_size"], first["pages"]) == (25, 1, 20, 2)
    assert len(first["items"]) == 20
    second = client.get(f"{API}/users", {"page": 2}, **bearer(plain)).json()
    assert len(second["items"]) == 5
    largest = client.get(f"{API}/users", {"page_size": 100}, **bearer(plain)).json()
    assert largest["page_size"] == 100 and len(largest["items"]) == 25
    past_end = client.get(f"{API}/users", {"page": 9}, **bearer(plain)).json()
    assert past_end["items"] == [] and past_end["count"] == 25
    for bad in ({"page": 0}, {"page": -1}, {"page": "abc"}, {"page_size": 0}, {"page_size": 101}):
        assert_error(client.get(f"{API}/users", bad, **bearer(plain)), 422, "validation_error")
