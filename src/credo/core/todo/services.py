"""Todo state changes. Other apps create and cancel their tasks here, keyed by ``dedupe_key``."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import fsm
from credo.core.audit.services import audit_record, diff_fields
from credo.core.context import forget
from credo.core.todo import states  # noqa: F401  (registers the Todo machine)
from credo.core.todo.models import Todo

_TRACKED = ("title", "description", "due_date", "url", "source", "priority", "status")


class TodoError(Exception):
    pass


def _snapshot(todo: Todo) -> dict[str, Any]:
    return {name: getattr(todo, name) for name in _TRACKED}


def todo_create(
    *,
    user: Any,
    title: str,
    description: str = "",
    due_date: datetime.date | None = None,
    url: str = "",
    source: str = "",
    priority: int = Todo.Priority.NORMAL,
    dedupe_key: str | None = None,
    actor: Any = None,
) -> Todo:
    """Create a todo, or update the user's todo with the same ``dedupe_key`` (re-opening it if
    it was cancelled; a done todo stays done unless its details changed)."""
    title = (title or "").strip()
    if not title:
        raise TodoError(_("待办标题不能为空。"))
    values = {
        "title": title[:200],
        "description": description,
        "due_date": due_date,
        "url": url,
        "source": source,
        "priority": priority,
    }
    forget("todo:")  # this request's memoized counts (todo_counts)
    with transaction.atomic():
        existing = None
        if dedupe_key:
            existing = (
                Todo.objects.select_for_update().filter(user=user, dedupe_key=dedupe_key).first()
            )
        if existing is None:
            todo = Todo.objects.create(user=user, dedupe_key=dedupe_key or None, **values)
            audit_record(
                action="todo.create",
                actor=actor,
                obj=todo,
                changes=diff_fields({}, _snapshot(todo)),
                metadata={"user_id": user.pk, "dedupe_key": dedupe_key},
            )
            return todo
        before = _snapshot(existing)
        for name, value in values.items():
            setattr(existing, name, value)
        if existing.status == Todo.Status.CANCELLED:
            fsm.transition(existing, Todo.Status.OPEN, save=False)
            existing.done_at = None
        changes = diff_fields(before, _snapshot(existing))
        if changes:
            existing.save()
            audit_record(
                action="todo.update",
                actor=actor,
                obj=existing,
                changes=changes,
                metadata={"user_id": user.pk, "dedupe_key": dedupe_key},
            )
        return existing


def todo_complete(*, todo: Todo, actor: Any) -> Todo:
    """Mark done. Only the owner may complete; completing twice is a no-op."""
    if actor is None or todo.user_id != actor.pk:
        raise PermissionDenied(_("只能完成自己的待办。"))
    forget("todo:")
    with transaction.atomic():
        todo = Todo.objects.select_for_update().get(pk=todo.pk)
        if todo.status == Todo.Status.DONE:
            return todo
        if todo.status == Todo.Status.CANCELLED:
            raise TodoError(_("该待办已取消，无法完成。"))
        before = _snapshot(todo)
        todo.done_at = timezone.now()
        fsm.transition(todo, Todo.Status.DONE, update_fields=["done_at"])
        audit_record(
            action="todo.complete",
            actor=actor,
            obj=todo,
            changes=diff_fields(before, _snapshot(todo)),
        )
        return todo


def todo_cancel_by_key(*, user: Any, dedupe_key: str, actor: Any = None) -> int:
    """Cancel the user's open todo with this key (the source no longer needs it). Returns the
    number of todos cancelled (0 or 1)."""
    forget("todo:")
    with transaction.atomic():
        todos = list(
            Todo.objects.select_for_update().filter(
                user=user, dedupe_key=dedupe_key, status=Todo.Status.OPEN
            )
        )
        for todo in todos:
            before = _snapshot(todo)
            fsm.transition(todo, Todo.Status.CANCELLED)
            audit_record(
                action="todo.cancel",
                actor=actor,
                obj=todo,
                changes=diff_fields(before, _snapshot(todo)),
                metadata={"dedupe_key": dedupe_key},
            )
        return len(todos)
