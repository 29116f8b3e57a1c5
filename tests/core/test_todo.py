"""The 我的待办 app: services (upsert, complete, cancel), selectors and the list page."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credo.core.audit.models import AuditEntry
from credo.core.todo.models import Todo
from credo.core.todo.selectors import open_todos, todo_counts
from credo.core.todo.services import TodoError, todo_cancel_by_key, todo_complete, todo_create

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_create_is_audited(owner):
    todo = todo_create(user=owner, title="回访客户", source="customers", url="/c/1/")
    assert todo.status == Todo.Status.OPEN
    entry = AuditEntry.objects.filter(action="todo.create").get()
    assert entry.object_id == str(todo.pk)
    assert entry.changes["title"]["after"] == "回访客户"


def test_create_requires_title(owner):
    with pytest.raises(TodoError):
        todo_create(user=owner, title="  ")


def test_dedupe_key_upserts_per_user(owner, colleague):
    first = todo_create(user=owner, title="还款提醒", dedupe_key="loan:1:due")
    again = todo_create(
        user=owner, title="还款提醒（更新）", dedupe_key="loan:1:due", priority=Todo.Priority.HIGH
    )
    assert again.pk == first.pk
    assert Todo.objects.filter(user=owner).count() == 1
    again.refresh_from_db()
    assert again.title == "还款提醒（更新）" and again.priority == Todo.Priority.HIGH
    assert AuditEntry.objects.filter(action="todo.update").count() == 1
    # unchanged upsert writes nothing
    todo_create(
        user=owner, title="还款提醒（更新）", dedupe_key="loan:1:due", priority=Todo.Priority.HIGH
    )
    assert AuditEntry.objects.filter(action="todo.update").count() == 1
    # same key for another user is a separate todo
    other = todo_create(user=colleague, title="还款提醒", dedupe_key="loan:1:due")
    assert other.pk != first.pk
    # todos without key never collide
    todo_create(user=owner, title="A")
    todo_create(user=owner, title="A")
    assert Todo.objects.filter(user=owner).count() == 3


def test_complete_is_idempotent_and_owner_only(owner, colleague):
    todo = todo_create(user=owner, title="整理资料")
    with pytest.raises(PermissionDenied):
        todo_complete(todo=todo, actor=colleague)
    done = todo_complete(todo=todo, actor=owner)
    assert done.status == Todo.Status.DONE and done.done_at is not None
    first_done_at = done.done_at
    again = todo_complete(todo=todo, actor=owner)
    assert again.done_at == first_done_at
    assert AuditEntry.objects.filter(action="todo.complete").count() == 1


def test_cancel_by_key_and_reopen(owner):
    todo_create(user=owner, title="审批", dedupe_key="app:9")
    assert todo_cancel_by_key(user=owner, dedupe_key="app:9") == 1
    assert todo_cancel_by_key(user=owner, dedupe_key="app:9") == 0
    todo = Todo.objects.get(user=owner, dedupe_key="app:9")
    assert todo.status == Todo.Status.CANCELLED
    with pytest.raises(TodoError):
        todo_complete(todo=todo, actor=owner)
    reopened = todo_create(user=owner, title="审批", dedupe_key="app:9")
    assert reopened.pk == todo.pk and reopened.status == Todo.Status.OPEN


def test_selectors_counts(owner, colleague):
    today = timezone.localdate()
    todo_create(user=owner, title="逾期", due_date=today - datetime.timedelta(days=1))
    todo_create(user=owner, title="今天", due_date=today)
    later = todo_create(user=owner, title="以后", due_date=today + datetime.timedelta(days=3))
    todo_create(user=colleague, title="别人的")
    todo_complete(todo=later, actor=owner)
    assert [t.title for t in open_todos(owner)] == ["逾期", "今天"]
    assert todo_counts(owner) == {"open": 2, "overdue": 1, "today": 1, "done": 1}


def test_list_page_tabs_and_highlights(owner, colleague):
    today = timezone.localdate()
    todo_create(user=owner, title="逾期事项", due_date=today - datetime.timedelta(days=2))
    todo_create(user=owner, title="今日事项", due_date=today)
    done = todo_create(user=owner, title="已办事项")
    todo_complete(todo=done, actor=owner)
    todo_create(user=colleague, title="同事事项")
    client = _client(owner)
    html = client.get(reverse("todo:list")).content.decode()
    assert "逾期事项" in html and "今日事项" in html
    assert "同事事项" not in html and "已办事项" not in html
    assert "credo-overdue" in html and "已逾期" in html and "今天到期" in html
    assert "hx-post" in html
    html = client.get(reverse("todo:list"), {"tab": "done"}).content.decode()
    assert "已办事项" in html and "逾期事项" not in html


def test_list_page_empty_state_and_pagination(owner):
    client = _client(owner)
    assert "暂无待办事项" in client.get(reverse("todo:list")).content.decode()
    for i in range(25):
        todo_create(user=owner, title=f"事项{i:02d}")
    html = client.get(reverse("todo:list")).content.decode()
    assert "pagination" in html and "1 / 2" in html
    html = client.get(reverse("todo:list"), {"page": 2}).content.decode()
    assert html.count('<tr id="todo-') == 5


def test_complete_view(owner, colleague):
    todo = todo_create(user=owner, title="打电话")
    url = reverse("todo:complete", args=[todo.pk])
    assert _client(owner).get(url).status_code == 405
    assert _client(colleague).post(url).status_code == 404
    todo.refresh_from_db()
    assert todo.status == Todo.Status.OPEN

    response = _client(owner).post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="todo-{todo.pk}"' in html and "已完成" in html and "hx-post" not in html
    todo.refresh_from_db()
    assert todo.status == Todo.Status.DONE

    response = _client(owner).post(url)  # non-htmx, idempotent
    assert response.status_code == 302


def test_home_shows_open_count(owner):
    todo_create(user=owner, title="一")
    todo_create(user=owner, title="二")
    html = _client(owner).get(reverse("core:home")).content.decode()
    assert 'id="todo-open-count">2<' in html
    assert reverse("todo:list") in html


def test_counts_are_read_once_per_request_and_forgotten_by_a_write(
    owner, django_assert_num_queries
):
    """The home page asks for the counts twice (its todo card, the 待办到期 panel): one query
    per request; a todo written during the request makes the next read fresh."""
    from credo.core.context import memoized, reset_request_memo, set_request_memo

    token = set_request_memo({})
    try:
        with django_assert_num_queries(1):
            assert todo_counts(owner)["open"] == 0
            assert todo_counts(owner)["open"] == 0
        todo_create(user=owner, title="回访")
        assert todo_counts(owner)["open"] == 1
        assert memoized("x", lambda: 1) == 1 and memoized("x", lambda: 2) == 1
    finally:
        reset_request_memo(token)
    # outside a request nothing is memoized
    assert memoized("x", lambda: 3) == 3
    todo_create(user=owner, title="再回访")
    assert todo_counts(owner)["open"] == 2
