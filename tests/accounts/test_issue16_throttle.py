"""Issue 16: one client-IP function behind a trusted proxy, per-IP login throttling (password
spraying) and per-IP limits on the public pages and webhooks."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory

import credo
from credo.core.audit.models import AuditEntry
from credo.core.middleware import client_ip
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
NGINX = "127.0.0.1"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def behind_nginx(settings):
    settings.CREDO_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.CREDO_TRUSTED_PROXIES = [NGINX, "10.0.0.0/8"]
    return settings


def via(client_addr: str, *, proxy: str = NGINX, xff: str | None = None) -> dict[str, str]:
    """Request headers as the documented nginx sends them (it appends the peer's address)."""
    return {"REMOTE_ADDR": proxy, "HTTP_X_FORWARDED_FOR": xff or client_addr}


# --- the client-IP function -----------------------------------------------------------------


def test_client_ip_reads_the_header_only_from_a_trusted_proxy(behind_nginx):
    rf = RequestFactory()
    # through nginx: the address nginx saw
    assert client_ip(rf.get("/", **via("203.0.113.7"))) == "203.0.113.7"
    # a client's own X-Forwarded-For is kept by nginx on the left and ignored here
    spoofed = via("203.0.113.7", xff="1.1.1.1, 203.0.113.7")
    assert client_ip(rf.get("/", **spoofed)) == "203.0.113.7"
    # two of our proxies (nginx → internal load balancer 10.x): skipped from the right
    chained = via("203.0.113.7", xff="203.0.113.7, 10.1.2.3")
    assert client_ip(rf.get("/", **chained)) == "203.0.113.7"
    # a direct connection from an untrusted address cannot choose its address
    direct = rf.get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert client_ip(direct) == "198.51.100.9"
    # malformed header → the proxy's own address, never the junk
    junk = rf.get("/", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="<script>, not-an-ip")
    assert client_ip(junk) == NGINX
    ipv6 = rf.get("/", **via("2001:db8::1"))
    assert client_ip(ipv6) == "2001:db8::1"


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.CREDO_TRUSTED_PROXIES = []
    request = RequestFactory().get("/", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client_ip(request) == NGINX


def test_trusted_proxies_setting_is_validated(monkeypatch):
    import subprocess
    import sys

    env = {
        "CREDO_ENVIRONMENT": "test",
        "CREDO_SECRET_KEY": "x" * 40,
        "CREDO_ENCRYPTION_KEYS": "k1:dGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY=",
        "CREDO_TRUSTED_PROXIES": "127.0.0.1,not-a-network",
        "PATH": "/usr/bin:/bin",
        # the subprocess imports the same credo package as this test run
        "PYTHONPATH": str(Path(credo.__file__).resolve().parent.parent),
    }
    proc = subprocess.run(
        [sys.executable, "-c", "import credo.settings"], env=env, capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "CREDO_TRUSTED_PROXIES" in proc.stderr


def test_axes_and_audit_see_the_real_client(client: Client, owner, behind_nginx):
    from axes.models import AccessAttempt

    client.post(LOGIN, {"username": "owner", "password": "wrong"}, **via("203.0.113.7"))
    assert AccessAttempt.objects.get(username="owner").ip_address == "203.0.113.7"
    assert AuditEntry.objects.get(action="auth.login_failed").ip == "203.0.113.7"
    client.post(LOGIN, {"username": "owner", "password": PASSWORD}, **via("203.0.113.8"))
    assert AuditEntry.objects.get(action="auth.login").ip == "203.0.113.8"


# --- login: failed attempts per client address ----------------------------------------------


def test_password_spraying_from_one_address_is_throttled(client: Client, behind_nginx):
    behind_nginx.CREDO_LOGIN_IP_FAILURE_LIMIT = 3
    users = [UserFactory(username=f"staff{i}") for i in range(5)]
    attacker = via("203.0.113.66")
    # one password tried on many usernames: axes (per username) never locks any of them
    for user in users[:3]:
        resp = client.post(
            LOGIN, {"username": user.username, "password": "Spring2026!"}, **attacker
        )
        assert resp.status_code == 200
    resp = client.post(LOGIN, {"username": users[3].username, "password": PASSWORD}, **attacker)
    assert resp.status_code == 429
    assert "此网络地址登录失败次数过多，请 15 分钟后再试" in resp.content.decode()
    assert resp["Retry-After"] == "900"
    assert "_auth_user_id" not in client.session  # even the right password is not tried
    entry = AuditEntry.objects.get(action="security.rate_limited")
    assert entry.ip == "203.0.113.66"
    assert entry.metadata["bucket"] == "login_failures"
    client.post(LOGIN, {"username": users[4].username, "password": "x"}, **attacker)
    assert AuditEntry.objects.filter(action="security.rate_limited").count() == 1  # once

    # a colleague behind the same nginx, at another address, logs in normally
    other = Client()
    resp = other.post(
        LOGIN, {"username": users[3].username, "password": PASSWORD}, **via("198.51.100.2")
    )
    assert resp.status_code == 302
    # the login page itself still opens for the throttled address
    assert client.get(LOGIN, **attacker).status_code == 200


def test_successful_logins_do_not_count(client: Client, owner, behind_nginx):
    behind_nginx.CREDO_LOGIN_IP_FAILURE_LIMIT = 2
    branch = via("203.0.113.10")  # a whole branch behind one NAT address
    for _ in range(5):
        c = Client()
        assert (
            c.post(LOGIN, {"username": "owner", "password": PASSWORD}, **branch).status_code == 302
        )


# --- public pages and webhooks ----------------------------------------------------------------


def test_portal_links_are_limited_per_address(client: Client, behind_nginx):
    behind_nginx.CREDO_PUBLIC_RATE_PER_MINUTE = 3
    guesser = via("203.0.113.50")
    for n in range(3):
        assert client.get(f"/portal/guess{n}/", **guesser).status_code == 404
    resp = client.get("/portal/guess9/", **guesser)
    assert resp.status_code == 429
    assert "请求过于频繁" in resp.content.decode()
    assert resp["Retry-After"] == "60"
    entry = AuditEntry.objects.get(action="security.rate_limited")
    assert entry.metadata["bucket"] == "public"
    assert entry.ip == "203.0.113.50"
    # another visitor behind the same proxy is not affected
    assert client.get("/portal/guess9/", **via("203.0.113.51")).status_code == 404


def test_public_lead_form_is_limited_per_address(client: Client, behind_nginx):
    behind_nginx.CREDO_PUBLIC_RATE_PER_MINUTE = 2
    visitor = via("203.0.113.60")
    assert client.get("/forms/leads/", **visitor).status_code == 200
    assert client.get("/forms/leads/", **visitor).status_code == 200
    assert client.get("/forms/leads/", **visitor).status_code == 429


def test_lead_form_submission_limit_uses_the_client_address(client: Client, behind_nginx):
    """The form's own submission limit (5 a minute) counts the visitor, not nginx."""
    from credo.leads.views import PUBLIC_RATE

    for n in range(PUBLIC_RATE):
        client.post("/forms/leads/", {"name": f"访客{n}"}, **via(f"203.0.113.{100 + n}"))
    resp = client.post("/forms/leads/", {"name": "又一位"}, **via("203.0.113.99"))
    assert resp.status_code != 429


def test_webhook_is_limited_per_address_with_the_api_error_body(client: Client, behind_nginx):
    behind_nginx.CREDO_WEBHOOK_RATE_PER_MINUTE = 2
    sender = via("203.0.113.70")
    url = "/api/v1/contracts/esign/callback"
    for _ in range(2):
        resp = client.post(url, b"{}", content_type="application/json", **sender)
        assert resp.status_code != 429
    resp = client.post(url, b"{}", content_type="application/json", **sender)
    assert resp.status_code == 429
    body = resp.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "throttled"
    assert body["message"] == "请求过于频繁，请稍后再试"


def test_wecom_dingtalk_login_free_endpoints_are_limited_per_address(client: Client, behind_nginx):
    """Card links, the QR/OAuth login and callbacks and WeCom's event callback need no login:
    a guesser is throttled (and audited once per refusal) like the other public pages."""
    behind_nginx.CREDO_PUBLIC_RATE_PER_MINUTE = 2
    behind_nginx.CREDO_WEBHOOK_RATE_PER_MINUTE = 2
    for n, url in enumerate(
        (
            "/imapps/card/guess/",
            "/imapps/wecom/login/",
            "/imapps/dingtalk/callback/",
            "/imapps/wecom/event/",
        )
    ):
        guesser = via(f"203.0.113.{90 + n}")
        for _ in range(2):
            assert client.get(url, **guesser).status_code != 429
        assert client.get(url, **guesser).status_code == 429, url


def test_health_and_staff_pages_are_not_throttled(client: Client, owner, behind_nginx):
    behind_nginx.CREDO_PUBLIC_RATE_PER_MINUTE = 1
    for _ in range(3):
        assert client.get("/healthz", **via("203.0.113.80")).status_code == 200
        assert client.get("/api/v1/health", **via("203.0.113.80")).status_code == 200
