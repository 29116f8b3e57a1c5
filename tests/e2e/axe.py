"""Accessibility checks in the browser tests (issue 21 #6): axe-core from npm (``node_modules``,
installed by ``make assets``; a devDependency, never served) is evaluated in the page through
the DevTools protocol — not as a ``<script>``, which our Content-Security-Policy would refuse —
and the page must have **no serious or critical violation** (WCAG 2.1 A/AA rules plus axe's
best practices). ``assert_accessible(page, "<page name>")`` is called in the browser test of each
of the most used pages at the moment the page shows real data; ``PAGES`` lists them and
``tests/e2e/test_accessibility.py`` checks every one is covered."""

from __future__ import annotations

import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

#: the 12 most used pages (issue 21 #6) → the browser test module that checks each
PAGES = {
    "login": "test_accessibility.py",
    "workbench": "test_workbench.py",
    "customer list": "test_customers.py",
    "customer 360": "test_customers.py",
    "application": "test_origination.py",
    "approval task": "test_approval_task_decision.py",
    "loan": "test_lending.py",
    "repayment": "test_lending.py",
    "collections workbench": "test_collections.py",
    "dashboard": "test_issue15_dashboard.py",
    "borrower home": "test_borrower.py",
    "inspection form": "test_fieldwork.py",
}

BLOCKING = ("serious", "critical")


@functools.cache
def _source() -> str:
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make assets` (npm installs axe-core)")
    return AXE.read_text(encoding="utf-8")


def violations(page, *, include: str | None = None) -> list[dict]:
    """All axe violations of the page as it is now (optionally only inside ``include``)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_source())
    return page.evaluate(
        """async (include) => {
            const r = await axe.run(include ? document.querySelector(include) : document, {
                resultTypes: ['violations'],
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + n.html.slice(0, 140)),
            }));
        }""",
        include,
    )


def assert_accessible(page, name: str, *, include: str | None = None) -> list[dict]:
    """No serious/critical violation on ``page``; returns the minor/moderate ones."""
    assert name in PAGES, f"{name!r} is not one of the checked pages: {sorted(PAGES)}"
    found = violations(page, include=include)
    bad = [v for v in found if v["impact"] in BLOCKING]
    detail = "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in bad
    )
    assert not bad, f"accessibility ({name}, {page.url}):\n{detail}"
    return [v for v in found if v["impact"] not in BLOCKING]
