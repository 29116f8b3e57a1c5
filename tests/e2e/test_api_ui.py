"""A user creates an API token in the browser, sees the plaintext once, and revokes it."""

from __future__ import annotations

import pytest

from credo.api.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_and_revoke_token(page, login, owner):
    login(owner)
    page.goto(f"{page.base_url}/system/api/tokens/")
    page.fill("input[name=name]", "浏览器测试令牌")
    page.click("[data-testid=token-create]")
    page.wait_for_load_state("networkidle")
    plaintext = page.input_value("[data-testid=token-plaintext]")
    token = ApiToken.objects.get(user=owner, name="浏览器测试令牌")
    assert plaintext.startswith(f"credo_{token.prefix}_")
    assert token.scopes == ["read"]

    # shown once: a fresh load of the list has no plaintext
    page.goto(f"{page.base_url}/system/api/tokens/")
    assert page.locator("[data-testid=token-plaintext]").count() == 0
    assert plaintext not in page.content()
    assert "浏览器测试令牌" in page.content()

    page.click(f"tr[data-token-id='{token.pk}'] >> text=吊销")
    page.click("[data-testid=token-revoke-confirm]")
    page.wait_for_load_state("networkidle")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "已吊销" in page.content()
    assert page.console_errors == []


def test_docs_page_lists_endpoints(page, login, owner):
    login(owner)
    page.goto(f"{page.base_url}/api/v1/docs")
    assert page.url.endswith("/system/api/docs/")
    table = page.locator("[data-testid=api-endpoints]")
    assert "/api/v1/tokens" in table.inner_text()
    assert page.console_errors == []
