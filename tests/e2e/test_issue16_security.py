"""Issue 16 in the browser: token lifetime limit on the token page; per-address login
throttling; a token cannot create tokens while the session that owns it can."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache

from credo.api.models import ApiToken
from credo.core.audit.models import AuditEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_token_page_offers_only_limited_lifetimes(page, login, owner, settings):
    settings.CREDO_API_TOKEN_MAX_DAYS = 180
    login(owner)
    page.goto(f"{page.base_url}/system/api/tokens/")
    options = page.locator("[data-testid=token-expiry] option").all_inner_texts()
    assert options == ["30 天", "90 天", "180 天"]
    assert "最长 180 天" in page.content()
    page.fill("input[name=name]", "半年令牌")
    page.select_option("[data-testid=token-expiry]", "180")
    page.click("[data-testid=token-create]")
    page.wait_for_load_state("networkidle")
    token = ApiToken.objects.get(user=owner, name="半年令牌")
    assert token.expires_at is not None
    assert token.expires_at - token.created_at == timedelta(days=180)
    plaintext = page.input_value("[data-testid=token-plaintext]")

    # the new token cannot mint another one (fetch from the page with the bearer header only)
    result = page.evaluate(
        """async (plain) => {
            const r = await fetch('/api/v1/tokens', {method: 'POST', credentials: 'omit',
              headers: {'Authorization': 'Bearer ' + plain, 'Content-Type': 'application/json'},
              body: JSON.stringify({name: '子令牌', scopes: ['read', 'write'], expires_in_days: 3650})});
            return {status: r.status, body: await r.json()};
        }""",
        plaintext,
    )
    assert result["status"] == 403
    assert result["body"]["code"] == "token_cannot_create_tokens"
    assert ApiToken.objects.filter(user=owner).count() == 1
    assert AuditEntry.objects.filter(action="api.token_create_refused").count() == 1
    assert page.console_errors == [] or all("403" in e for e in page.console_errors)


def test_login_throttled_per_address_in_chinese(page, settings):
    settings.CREDO_LOGIN_IP_FAILURE_LIMIT = 2
    victims = [UserFactory(username=f"user{i}") for i in range(3)]
    for user in victims[:2]:
        page.goto(f"{page.base_url}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", "Spring2026!")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "用户名或密码错误" in page.content()
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("input[name=username]", victims[2].username)
    page.fill("input[name=password]", "Spring2026!")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    text = page.content()
    assert "请求过于频繁" in text
    assert "此网络地址登录失败次数过多，请 15 分钟后再试" in text
    assert AuditEntry.objects.filter(action="security.rate_limited").count() == 1
