"""docs/roles.md and docs/transitions.md are generated from the registrations: they must match."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from credo.accounts import docs


@pytest.mark.parametrize("what", sorted(docs.RENDERERS))
def test_generated_doc_is_up_to_date(what):
    path = docs.DOCS_DIR / f"{what}.md"
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    assert current == docs.RENDERERS[what](), (
        f"docs/{what}.md is out of date with the registrations: regenerate it with "
        f"`credo docs {what}` (in tests' settings: "
        f"`DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=. credo docs {what}`) and commit it."
    )


def test_roles_doc_lists_every_role_and_labels_permissions():
    text = docs.render_roles()
    assert "## 风控专员 (`risk_analyst`)" in text
    assert "| `accounts.manage_users` | 管理用户 | 用户与权限（accounts） |" in text
    assert "`scheduling.view_tasks`" in text  # granted by a core app, no accounts import


def test_transitions_doc_lists_core_machines():
    text = docs.render_transitions()
    assert "## `todo.Todo.status`" in text
    assert "## `reports.ReportRun.status`" in text


def test_command_writes_and_checks(tmp_path):
    with pytest.raises(CommandError):
        call_command("docs", "roles", "--dir", str(tmp_path), "--check")
    call_command("docs", "roles", "--dir", str(tmp_path))
    call_command("docs", "roles", "--dir", str(tmp_path), "--check")
    assert (tmp_path / "roles.md").read_text(encoding="utf-8") == docs.render_roles()
