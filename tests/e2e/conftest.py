"""Browser tests: Playwright driving the Debian Chromium (never Playwright's own download).

Every test here is marked ``browser``; CI's SQLite pass skips them with ``-m "not browser"``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time

import pytest

from tests.factories import PASSWORD

CHROMIUM = os.environ.get("CREDO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# The live server runs in a thread next to Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def _browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs it (apt chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(_browser, live_server, settings):
    """A fresh browser context per test; console errors (incl. CSP violations) are collected in
    ``page.console_errors`` so tests can assert there are none."""
    # service workers blocked: the PWA's worker would fetch (precache) in the background after
    # the test's last step and race the database flush of the teardown
    context = _browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, service_workers="block"
    )
    context.set_default_timeout(10_000)
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda msg: msg.type == "error" and pg.console_errors.append(msg.text))
    pg.base_url = live_server.url
    pg.wait_until = lambda expression, arg=None, timeout=10.0: _wait_until(
        pg, expression, arg, timeout
    )
    yield pg
    # let requests still in flight (an htmx panel loaded on page load, a redirect) finish before
    # the context closes: a request the live server is still handling holds table locks that
    # the teardown's TRUNCATE then deadlocks with (seen in CI)
    for open_page in context.pages:
        # a page that never settles is closed anyway
        with contextlib.suppress(Exception):
            open_page.wait_for_load_state("networkidle", timeout=5_000)
    context.close()


def _wait_until(pg, expression: str, arg, timeout: float) -> None:
    """Poll a JS function expression until it returns something truthy.

    Use this instead of ``page.wait_for_function``: Playwright re-evaluates that predicate inside
    the page with ``eval``, which our Content-Security-Policy (no 'unsafe-eval') refuses — it only
    passed when the predicate was already true on the first (CDP) evaluation. ``page.evaluate``
    goes through the DevTools protocol and is not subject to the page's CSP.
    """
    deadline = time.monotonic() + timeout
    check = f"(arg) => Boolean(({expression})(arg))"
    while True:
        if pg.evaluate(check, arg):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {expression}")
        pg.wait_for_timeout(50)


@pytest.fixture
def login(page):
    """``login(user)`` signs the user in through the real login form."""

    def _login(user, password: str = PASSWORD):
        page.goto(f"{page.base_url}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return _login
