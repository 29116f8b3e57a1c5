"""Browser: the shell's navigation, language switch and the mobile menu."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_sidebar_language_switch_and_no_console_errors(page, login):
    user = UserFactory(username="shell_user", display_name="赵经理")
    login(user)
    assert page.url.rstrip("/") == page.base_url.rstrip("/")
    sidebar = page.locator("#sidebar-menu")
    assert sidebar.get_by_role("link", name="工作台").is_visible()
    assert sidebar.get_by_role("link", name="我的待办").is_visible()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    # Tabler CSS and the icon font are loaded (no 404s), bootstrap JS is available.
    assert page.evaluate("getComputedStyle(document.querySelector('.navbar-vertical')).position")
    assert page.evaluate("typeof window.tabler") == "object"  # Tabler bundle (bootstrap inside)
    assert page.evaluate("typeof window.htmx") == "object"

    page.click("button[data-lang=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert sidebar.get_by_role("link", name="Workbench").is_visible()
    assert sidebar.get_by_role("link", name="My tasks").is_visible()
    assert page.get_by_placeholder("Search customers, leads, loans…").is_visible()

    page.click("button[data-lang=zh-hans]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert sidebar.get_by_role("link", name="工作台").is_visible()
    assert page.console_errors == []


def test_user_menu_and_logout(page, login):
    user = UserFactory(username="menu_user", display_name="钱经理")
    login(user)
    page.click("#user-menu")
    logout = page.get_by_role("button", name="退出登录")
    logout.wait_for(state="visible")
    logout.click()
    page.wait_for_load_state("networkidle")
    assert "/accounts/login/" in page.url
    assert page.console_errors == []


def test_global_search_validation(page, login):
    login(UserFactory(username="search_user"))
    page.fill("header input[name=q]", "张")
    page.press("header input[name=q]", "Enter")
    page.wait_for_load_state("networkidle")
    assert "/search/" in page.url
    assert page.locator("#search-error").inner_text() == "请至少输入 2 个字符。"
    assert page.console_errors == []


def test_mobile_hamburger_opens_menu(page, login):
    login(UserFactory(username="mobile_user"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_load_state("networkidle")
    link = page.locator("#sidebar-menu").get_by_role("link", name="我的待办")
    assert not link.is_visible()
    toggler = page.locator(".navbar-vertical .navbar-toggler")
    assert toggler.is_visible()
    toggler.click()
    link.wait_for(state="visible")
    link.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/todo/")
    assert page.console_errors == []
