from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from credo.core.todo import selectors
from credo.core.todo.models import Todo
from credo.core.todo.services import TodoError, todo_complete

PAGE_SIZE = 20


@login_required
def todo_list(request: HttpRequest) -> HttpResponse:
    tab = "done" if request.GET.get("tab") == "done" else "open"
    qs = selectors.done_todos(request.user) if tab == "done" else selectors.open_todos(request.user)
    due = request.GET.get("due", "")
    if tab == "open" and due in selectors.DUE_FILTERS:  # the 工作台's "今天到期 / 已逾期" cards
        qs = selectors.filter_due(qs, due)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "tab": tab,
        "due": due if tab == "open" and due in selectors.DUE_FILTERS else "",
        "page_obj": page,
        "counts": selectors.todo_counts(request.user),
    }
    return render(request, "todo/list.html", context)


@login_required
@require_POST
def todo_complete_view(request: HttpRequest, pk: int) -> HttpResponse:
    todo = get_object_or_404(Todo, pk=pk, user=request.user)
    try:
        todo = todo_complete(todo=todo, actor=request.user)
    except TodoError as exc:
        if request.headers.get("HX-Request"):
            return HttpResponse(str(exc), status=409)
        messages.error(request, str(exc))
        return redirect("todo:list")
    if request.headers.get("HX-Request"):
        return render(request, "todo/_row.html", {"todo": todo})
    return redirect("todo:list")
