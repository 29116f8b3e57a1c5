"""Browser: completing a todo swaps the row in place via htmx."""

from __future__ import annotations

import pytest

from credo.core.todo.models import Todo
from credo.core.todo.services import todo_cancel_by_key, todo_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_complete_todo_without_reload(page, login):
    user = UserFactory(username="todo_user")
    todo = todo_create(user=user, title="给客户回电话")
    other = todo_create(user=user, title="准备贷前资料")
    login(user)
    page.goto(f"{page.base_url}/todo/")
    # A marker on window survives only if the page is not reloaded.
    page.evaluate("window.__noReload = true")
    row = page.locator(f"#todo-{todo.pk}")
    row.get_by_role("button", name="完成").click()
    page.locator(f"#todo-{todo.pk} .credo-todo-done").wait_for(state="visible")
    assert page.evaluate("window.__noReload") is True
    assert page.locator(f"#todo-{other.pk}").get_by_role("button", name="完成").is_visible()
    todo.refresh_from_db()
    assert todo.status == Todo.Status.DONE
    assert page.console_errors == []


def test_htmx_error_shows_alert(page, login):
    user = UserFactory(username="todo_err_user")
    todo = todo_create(user=user, title="已被取消的事项", dedupe_key="x:1")
    login(user)
    page.goto(f"{page.base_url}/todo/")
    todo_cancel_by_key(user=user, dedupe_key="x:1")  # cancelled behind the page's back
    page.locator(f"#todo-{todo.pk}").get_by_role("button", name="完成").click()
    alert = page.locator("#credo-toasts .alert")
    alert.wait_for(state="visible")
    assert "操作失败" in alert.inner_text()
    assert "409" in alert.inner_text()
