"""Browser, issue 21 #6: accessibility. axe-core on the 12 most used pages (each checked in the
browser test of its own flow, with real data: see ``tests/e2e/axe.py``), plus the keyboard: the
login form, the skip link, the user menu and the side menu work without a mouse, and every
input of the login form has a label."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.axe import PAGES, assert_accessible
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

HERE = Path(__file__).resolve().parent


def test_every_listed_page_is_checked_in_its_flow():
    """A page dropped from its flow's test would silently lose its check: each of the 12 names
    is asserted in the module ``PAGES`` names."""
    assert len(PAGES) == 12
    for name, module in PAGES.items():
        text = (HERE / module).read_text(encoding="utf-8")
        assert re.search(rf'assert_accessible\(\s*\w+,\s*"{re.escape(name)}"', text), (
            name,
            module,
        )


def test_login_page_by_keyboard_alone(page):
    user = UserFactory(username="kb_user", display_name="键盘用户")
    page.goto(f"{page.base_url}/accounts/login/")
    assert_accessible(page, "login")
    # every visible input has a label pointing at it
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.name)"""
    )
    assert unlabeled == []
    # the username field has focus on load; Tab reaches the password, Enter submits
    assert page.evaluate("document.activeElement.name") == "username"
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():  # the form submits: wait for it, not for an idle network
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.url.rstrip("/") == page.base_url.rstrip("/")
    assert page.console_errors == []


def test_skip_link_user_menu_and_side_menu_by_keyboard(page, login):
    login(UserFactory(username="kb_menu", display_name="键盘菜单"))
    # the first Tab stop is the skip link; Enter moves focus to the main content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "跳到主要内容"
    assert page.locator("a.credo-skip").is_visible()  # shown while focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # one <main>, and the page title is its level-one heading
    assert page.locator("main").count() == 1
    assert page.locator("main h1.page-title").count() == 1

    # the user menu: focus it, Enter opens it, the logout button is reachable by Tab
    page.focus("#user-menu")
    page.keyboard.press("Enter")
    logout = page.get_by_role("button", name="退出登录")
    logout.wait_for(state="visible")
    assert page.get_attribute("#user-menu", "aria-expanded") == "true"
    page.keyboard.press("Escape")
    page.wait_until(
        "() => document.querySelector('#user-menu').getAttribute('aria-expanded') === 'false'"
    )

    # the side menu: its links are plain links in tab order; Enter follows one
    page.focus("#sidebar-menu a[href='/todo/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/todo/" in page.url
    assert page.console_errors == []
