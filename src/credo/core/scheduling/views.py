"""Pages: background task runs (with retry) and cron schedules."""

from __future__ import annotations

import json
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_tasks_db.models import DBTaskResult

from credo.core.scheduling.forms import CronForm, TaskRunFilterForm
from credo.core.scheduling.models import Schedule, TaskReap
from credo.core.scheduling.reaper import lease_seconds, max_attempts, stale_claims
from credo.core.scheduling.selectors import (
    STATUS_LABELS,
    annotate_leases,
    schedule_rows,
    task_facets,
    task_runs,
)
from credo.core.scheduling.services import (
    SchedulingError,
    schedule_run_now,
    schedule_update,
    task_retry,
)

PAGE_SIZE = 50


@login_required
@permission_required("scheduling.view_tasks", raise_exception=True)
def task_run_list(request: HttpRequest) -> HttpResponse:
    form = TaskRunFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    page = Paginator(task_runs(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    stuck = stale_claims()
    annotate_leases(list(page.object_list), stuck)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "scheduling/task_runs.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "facets": task_facets(),
            "status_labels": STATUS_LABELS,
            "can_retry": request.user.has_perm("scheduling.manage_schedules"),
            "stuck": stuck,
            "lease_seconds": lease_seconds(),
            "max_attempts": max_attempts(),
        },
    )


@login_required
@permission_required("scheduling.view_tasks", raise_exception=True)
def task_run_detail(request: HttpRequest, pk: str) -> HttpResponse:
    run = get_object_or_404(DBTaskResult, pk=pk)
    stuck = [claim for claim in stale_claims() if claim.run.pk == run.pk]
    return render(
        request,
        "scheduling/task_run_detail.html",
        {
            "run": run,
            "stuck": stuck[0] if stuck else None,
            "reaps": TaskReap.objects.filter(task_result=run),
            "lease_seconds": lease_seconds(),
            "max_attempts": max_attempts(),
            "status_label": STATUS_LABELS.get(run.status, run.status),
            "args_json": json.dumps(run.args_kwargs, ensure_ascii=False, indent=2),
            "return_json": json.dumps(run.return_value, ensure_ascii=False, indent=2),
            "can_retry": request.user.has_perm("scheduling.manage_schedules")
            and run.status == "FAILED",
        },
    )


@login_required
@permission_required("scheduling.manage_schedules", raise_exception=True)
@require_POST
def task_run_retry(request: HttpRequest, pk: str) -> HttpResponse:
    run = get_object_or_404(DBTaskResult, pk=pk)
    try:
        new_id = task_retry(run=run, actor=request.user)
    except SchedulingError as exc:
        messages.error(request, exc.message)
        return redirect("scheduling:task_run_detail", pk=run.pk)
    messages.success(request, _("已重新加入队列"))
    try:
        new_pk = uuid.UUID(new_id)
    except ValueError:  # a non-database backend (tests use the immediate one)
        return redirect("scheduling:task_runs")
    if DBTaskResult.objects.filter(pk=new_pk).exists():
        return redirect("scheduling:task_run_detail", pk=new_pk)
    return redirect("scheduling:task_runs")


@login_required
@permission_required("scheduling.manage_schedules", raise_exception=True)
def schedule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "scheduling/schedule_list.html", {"rows": schedule_rows()})


@login_required
@permission_required("scheduling.manage_schedules", raise_exception=True)
@require_POST
def schedule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=pk)
    schedule = schedule_update(schedule=schedule, actor=request.user, enabled=not schedule.enabled)
    if schedule.enabled:
        messages.success(request, _("已启用“%(name)s”") % {"name": schedule.name})
    else:
        messages.success(request, _("已停用“%(name)s”") % {"name": schedule.name})
    return redirect("scheduling:schedule_list")


@login_required
@permission_required("scheduling.manage_schedules", raise_exception=True)
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=pk)
    form = CronForm(request.POST or None, initial={"cron": schedule.cron})
    if request.method == "POST" and form.is_valid():
        try:
            schedule_update(schedule=schedule, actor=request.user, cron=form.cleaned_data["cron"])
        except SchedulingError as exc:
            form.add_error("cron", exc.message)
        else:
            messages.success(request, _("已保存“%(name)s”") % {"name": schedule.name})
            return redirect("scheduling:schedule_list")
    return render(request, "scheduling/schedule_edit.html", {"schedule": schedule, "form": form})


@login_required
@permission_required("scheduling.manage_schedules", raise_exception=True)
@require_POST
def schedule_run(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=pk)
    try:
        schedule_run_now(schedule=schedule, actor=request.user)
    except SchedulingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("“%(name)s”已加入队列") % {"name": schedule.name})
    return redirect("scheduling:schedule_list")
