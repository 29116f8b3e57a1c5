from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

from credo.core.ui.search import MAX_QUERY_LENGTH, MIN_QUERY_LENGTH, run_search, search_providers

HOME_TODOS = 5


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """工作台: the user's open todos, the general panels ("我的业务" figures) and a section per
    role the user holds, each figure linking to its filtered list (core/ui/workbench.py)."""
    from credo.core.todo.selectors import open_todos, todo_counts
    from credo.core.ui.workbench import panels_for, sections_for

    context: dict[str, Any] = {
        "todo_counts": todo_counts(request.user),
        "todos": list(open_todos(request.user)[:HOME_TODOS]),
        "panels": panels_for(request.user),
        # one section per role the user holds (客户经理, 审批, 风控, 财务, 催收, 管理层 …)
        "sections": sections_for(request.user),
        "roles": request.user.role_names,  # type: ignore[union-attr]
    }
    return render(request, "core/home.html", context)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()
    error = ""
    groups: list[dict[str, Any]] = []
    if q:
        if len(q) < MIN_QUERY_LENGTH:
            error = _("请至少输入 %(n)d 个字符。") % {"n": MIN_QUERY_LENGTH}
        elif len(q) > MAX_QUERY_LENGTH:
            error = _("搜索内容不能超过 %(n)d 个字符。") % {"n": MAX_QUERY_LENGTH}
        else:
            groups = run_search(request.user, q)
    context = {
        "search_q": q,
        "error": error,
        "groups": groups,
        "has_providers": bool(search_providers()),
        "searched": bool(q) and not error,
    }
    return render(request, "core/search.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    from credo.core.health import health_check

    health = health_check()
    if health.ok:
        return JsonResponse({"status": "ok"})
    return JsonResponse({"status": "unavailable", "checks": health.checks}, status=503)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    # No request context: the database or a context processor may be what failed.
    return HttpResponseServerError(loader.get_template("500.html").render())
