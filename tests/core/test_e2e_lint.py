"""Browser tests must not use ``page.wait_for_function``.

Playwright re-evaluates that predicate inside the page with ``eval``; Credo's
Content-Security-Policy has no 'unsafe-eval', so the wait fails whenever the predicate is not
already true on the first evaluation (a CI failure that passed locally). ``page.wait_until``
from ``tests/e2e/conftest.py`` polls through the DevTools protocol instead.
"""

from __future__ import annotations

from pathlib import Path

E2E = Path(__file__).resolve().parents[1] / "e2e"


def test_browser_tests_do_not_use_wait_for_function():
    offenders = [
        f"{path.name}:{number}"
        for path in sorted(E2E.glob("test_*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "wait_for_function(" in line
    ]
    assert offenders == [], offenders
