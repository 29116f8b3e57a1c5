from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from credo.core import clock
from credo.core.todo.models import Todo


def open_todos(user: Any) -> QuerySet[Todo]:
    return Todo.objects.filter(user=user, status=Todo.Status.OPEN).order_by(
        "due_date", "-priority", "-created_at"
    )


#: ``?due=`` of the todo list: due by today (overdue or today), overdue, due today.
DUE_FILTERS = ("due", "overdue", "today")


def filter_due(qs: QuerySet[Todo], due: str) -> QuerySet[Todo]:
    today = clock.today()
    if due == "overdue":
        return qs.filter(due_date__lt=today)
    if due == "today":
        return qs.filter(due_date=today)
    if due == "due":
        return qs.filter(due_date__lte=today)
    return qs


def done_todos(user: Any) -> QuerySet[Todo]:
    return Todo.objects.filter(user=user, status=Todo.Status.DONE).order_by("-done_at", "-id")


def todo_counts(user: Any) -> dict[str, int]:
    """``{"open", "overdue", "today", "done"}`` for the user — once per request (the home page
    shows them in its todo card and in the account manager's 待办到期 panel)."""
    from credo.core.context import memoized

    return dict(memoized(f"todo:counts:{user.pk}", lambda: _todo_counts(user)))


def _todo_counts(user: Any) -> dict[str, int]:
    today = clock.today()
    open_q = Q(status=Todo.Status.OPEN)
    counts = Todo.objects.filter(user=user).aggregate(
        open=Count("id", filter=open_q),
        overdue=Count("id", filter=open_q & Q(due_date__lt=today)),
        today=Count("id", filter=open_q & Q(due_date=today)),
        done=Count("id", filter=Q(status=Todo.Status.DONE)),
    )
    return {key: int(value or 0) for key, value in counts.items()}
