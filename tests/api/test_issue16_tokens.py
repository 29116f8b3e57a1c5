"""Issue 16: only an interactive session creates API tokens; tokens have a maximum lifetime;
a locked-out or deactivated user's tokens are suspended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from credo.api.models import ApiToken, IdempotencyKey
from credo.core.audit.models import AuditEntry
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def assert_error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    return body


# --- item 1: a token can never mint a token -------------------------------------------------


@pytest.mark.parametrize("idempotency_key", ["", "mint-1"])
def test_token_cannot_mint_broader_longer_lived_token(
    client: Client, owner, make_token, bearer, idempotency_key
):
    parent, plain = make_token(owner, scopes=["write"], days=1)
    headers = {**bearer(plain)}
    if idempotency_key:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    resp = client.post(
        f"{API}/tokens",
        {"name": "子令牌", "scopes": ["read", "write"], "expires_in_days": 3650},
        content_type="application/json",
        **headers,
    )
    body = assert_error(resp, 403, "token_cannot_create_tokens")
    assert "不能使用 API 令牌创建新令牌" in body["message"]
    assert body["details"] == {"token_prefix": parent.prefix}
    # nothing was created, the idempotency key is not burnt, the refusal is audited
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [parent.pk]
    assert not IdempotencyKey.objects.exists()
    refusal = AuditEntry.objects.get(action="api.token_create_refused")
    assert refusal.object_id == str(parent.pk)
    assert refusal.actor_id == owner.pk
    assert refusal.metadata["reason"] == "token_authenticated"
    assert refusal.metadata["requested_scopes"] == ["read", "write"]
    assert AuditEntry.objects.filter(action="api.token_create").count() == 1  # the parent


def test_token_plus_session_cookie_is_still_a_token_request(client: Client, owner, make_token):
    """With both, the bearer token authenticates the request (it is tried first): refused."""
    _t, plain = make_token(owner, scopes=["read", "write"])
    client.force_login(owner)
    resp = client.post(
        f"{API}/tokens",
        {"name": "x", "scopes": ["read"]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert_error(resp, 403, "token_cannot_create_tokens")
    assert ApiToken.objects.count() == 1


def test_session_creates_token_within_maximum_lifetime(client: Client, owner):
    client.force_login(owner)
    too_long = client.post(
        f"{API}/tokens",
        {"name": "长期", "scopes": ["read"], "expires_in_days": 3650},
        content_type="application/json",
    )
    body = assert_error(too_long, 422, "token_expiry_too_long")
    assert body["message"] == "令牌有效期必须在 1 到 365 天之间。"
    never = client.post(
        f"{API}/tokens",
        {"name": "永久", "scopes": ["read"], "expires_in_days": None},
        content_type="application/json",
    )
    assert_error(never, 422, "token_expiry_required")
    assert not ApiToken.objects.exists()

    resp = client.post(
        f"{API}/tokens",
        {"name": "一年", "scopes": ["read"], "expires_in_days": 365},
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    token = ApiToken.objects.get(name="一年")
    assert token.expires_at is not None
    assert abs(token.expires_at - (timezone.now() + timedelta(days=365))) < timedelta(minutes=1)
    # the default lifetime is 90 days
    resp = client.post(
        f"{API}/tokens", {"name": "默认", "scopes": ["read"]}, content_type="application/json"
    )
    assert resp.status_code == 201
    default = ApiToken.objects.get(name="默认")
    assert default.expires_at is not None
    assert (default.expires_at - default.created_at).days == 90


def test_maximum_lifetime_is_configurable(client: Client, owner, settings):
    settings.CREDO_API_TOKEN_MAX_DAYS = 30
    client.force_login(owner)
    body = assert_error(
        client.post(
            f"{API}/tokens",
            {"name": "x", "scopes": ["read"], "expires_in_days": 31},
            content_type="application/json",
        ),
        422,
        "token_expiry_too_long",
    )
    assert "30 天" in body["message"]
    # the default (90) is capped by a smaller maximum
    resp = client.post(
        f"{API}/tokens", {"name": "y", "scopes": ["read"]}, content_type="application/json"
    )
    assert resp.status_code == 201, resp.content
    token = ApiToken.objects.get(name="y")
    assert token.expires_at is not None
    assert (token.expires_at - token.created_at).days == 30


def test_password_only_session_of_2fa_user_cannot_create_token(client: Client, owner):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=owner, name="手机", confirmed=True)
    client.force_login(owner)
    resp = client.post(
        f"{API}/tokens", {"name": "x", "scopes": ["read"]}, content_type="application/json"
    )
    assert_error(resp, 401, "unauthorized")
    assert not ApiToken.objects.exists()


def test_token_page_enforces_maximum_lifetime(client: Client, owner, settings):
    client.force_login(owner)
    page = client.get("/system/api/tokens/").content.decode()
    assert "永不过期" not in page
    assert "最长 365 天" in page
    for value in ("", "3650"):
        resp = client.post(
            "/system/api/tokens/", {"name": "页面", "scopes": ["read"], "expires_in_days": value}
        )
        assert resp.status_code == 200
        text = resp.content.decode()
        assert "令牌必须设置有效期" in text or "令牌有效期必须在 1 到 365 天之间" in text
    assert not ApiToken.objects.exists()

    settings.CREDO_API_TOKEN_MAX_DAYS = 60
    page = client.get("/system/api/tokens/").content.decode()
    assert 'value="60"' in page and 'value="90"' not in page
    resp = client.post(
        "/system/api/tokens/", {"name": "页面", "scopes": ["read"], "expires_in_days": "60"}
    )
    token = ApiToken.objects.get(name="页面")
    assert token.expires_at is not None
    assert (token.expires_at - token.created_at).days == 60
    assert resp["Cache-Control"] == "no-store"


# --- item 12: tokens of a locked-out or deactivated user are suspended -----------------------


def _fail_logins(client: Client, username: str, times: int) -> None:
    for _ in range(times):
        client.post("/accounts/login/", {"username": username, "password": "wrong-password"})


def test_locked_out_users_token_is_suspended_until_unlocked(
    client: Client, owner, make_token, bearer, settings
):
    from axes.utils import reset

    token, plain = make_token(owner, scopes=["read"])
    assert client.get(f"{API}/me", **bearer(plain)).status_code == 200
    _fail_logins(Client(), "owner", settings.AXES_FAILURE_LIMIT)
    assert AuditEntry.objects.filter(action="auth.locked_out").exists()

    for _ in range(3):
        body = assert_error(client.get(f"{API}/me", **bearer(plain)), 401, "account_locked")
    assert "临时锁定" in body["message"]
    assert body["details"] == {"token_prefix": token.prefix}
    # audited once (per token and reason per minute), not on every retry
    suspended = AuditEntry.objects.filter(action="api.token_suspended")
    assert suspended.count() == 1
    assert suspended.get().metadata == {"user_id": owner.pk, "reason": "account_locked"}
    token.refresh_from_db()
    assert token.revoked_at is None  # suspended, not revoked

    reset(username="owner")  # the administrator unlocks (or the cool-off ends)
    assert client.get(f"{API}/me", **bearer(plain)).status_code == 200


def test_lockout_cooloff_ends_suspension(client: Client, owner, make_token, bearer, settings):
    from axes.models import AccessAttempt

    _token, plain = make_token(owner, scopes=["read"])
    _fail_logins(Client(), "owner", settings.AXES_FAILURE_LIMIT)
    assert_error(client.get(f"{API}/me", **bearer(plain)), 401, "account_locked")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=2))
    assert client.get(f"{API}/me", **bearer(plain)).status_code == 200


def test_other_users_lockout_does_not_suspend_my_token(
    client: Client, owner, colleague, make_token, bearer, settings
):
    _token, plain = make_token(owner, scopes=["read"])
    _fail_logins(Client(), "colleague", settings.AXES_FAILURE_LIMIT)
    assert client.get(f"{API}/me", **bearer(plain)).status_code == 200


def test_deactivated_users_token_is_suspended_and_audited(
    client: Client, owner, make_token, bearer
):
    token, plain = make_token(owner, scopes=["read"])
    owner.is_active = False
    owner.save()
    body = assert_error(client.get(f"{API}/me", **bearer(plain)), 401, "account_inactive")
    assert "已停用" in body["message"]
    entry = AuditEntry.objects.get(action="api.token_suspended")
    assert entry.object_id == str(token.pk)
    assert entry.metadata["reason"] == "account_inactive"
    owner.is_active = True
    owner.save()
    assert client.get(f"{API}/me", **bearer(plain)).status_code == 200


def test_login_still_works_after_unlock(client: Client, owner, settings):
    """Guard: the suspension check did not change axes' own behaviour."""
    from axes.utils import reset

    _fail_logins(client, "owner", settings.AXES_FAILURE_LIMIT)
    reset(username="owner")
    resp = client.post("/accounts/login/", {"username": "owner", "password": PASSWORD})
    assert resp.status_code == 302
