"""日终批处理 pages: the runs list with a run form, and one run with its chunks and its
after-close jobs (重试 of a failed job)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from credo.core import clock
from credo.core.forms import IsoDateInput
from credo.lending.eod import EodError, last_done_date, run_eod
from credo.lending.eod.common import after_close_jobs
from credo.lending.eod.jobs import COMMON_RESULT_LABELS, job_retry
from credo.lending.eod.runs import rerun_from
from credo.lending.models import EodJob, EodRun, Loan
from credo.lending.states import LOAN_OPEN_STATES

# Books up to this many open loans run in the request; bigger ones are queued as chunk tasks.
INLINE_MAX_LOANS = 20_000


class EodRunForm(forms.Form):
    business_date = forms.DateField(
        label=gettext_lazy("业务日期"),
        widget=IsoDateInput(attrs={"class": "form-control"}),
    )


class RerunForm(forms.Form):
    from_date = forms.DateField(
        label=gettext_lazy("重算起始日"), widget=IsoDateInput(attrs={"class": "form-control"})
    )
    reason = forms.CharField(
        label=gettext_lazy("原因"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


@login_required
@permission_required("lending.run_eod", raise_exception=True)
@require_POST
def rerun_view(request: HttpRequest) -> HttpResponse:
    """从某日重算: a replay of the open loans with money on/after the date — never a rewrite."""
    form = RerunForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写重算起始日和原因。"))
        return redirect("lending_eod:runs")
    try:
        n = rerun_from(
            form.cleaned_data["from_date"], actor=request.user, reason=form.cleaned_data["reason"]
        )
    except EodError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已从 %(d)s 起重算 %(n)s 笔贷款（差额以倒起息调整分录记账）。")
            % {"d": form.cleaned_data["from_date"], "n": n},
        )
    return redirect("lending_eod:runs")


@login_required
@permission_required("lending.run_eod", raise_exception=True)
def runs(request: HttpRequest) -> HttpResponse:
    last_done = last_done_date()
    # yesterday by default; never a date before the last completed close (it would be refused)
    default = clock.today() - dt.timedelta(days=1)
    initial = {"business_date": max(default, last_done) if last_done else default}
    form = EodRunForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        inline = _inline()
        try:
            run = run_eod(form.cleaned_data["business_date"], actor=request.user, inline=inline)
        except EodError as exc:
            form.add_error("business_date", exc.message)
        else:
            if run.status == EodRun.Status.FAILED:
                messages.error(request, _("日终批处理失败：%(e)s") % {"e": run.error})
            elif run.status == EodRun.Status.DONE:
                messages.success(request, _("%(d)s 日终批处理已完成。") % {"d": run.business_date})
            else:
                messages.info(request, _("日终批处理已提交后台执行。"))
            return redirect("lending_eod:run_detail", pk=run.pk)
    page = Paginator(_with_job_counts(EodRun.objects.order_by("-business_date")), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "lending/eod_runs.html",
        {"form": form, "page": page, "last_done": last_done, "rerun_form": RerunForm()},
    )


def _with_job_counts(qs: QuerySet[EodRun]) -> QuerySet[EodRun]:
    """The runs with their jobs' tally (the list's 后续作业 column)."""
    return qs.annotate(
        jobs_total=Count("jobs"),
        jobs_done=Count("jobs", filter=Q(jobs__status=EodJob.Status.DONE)),
        jobs_failed=Count("jobs", filter=Q(jobs__status=EodJob.Status.FAILED)),
    )


def _inline() -> bool:
    return Loan.objects.filter(status__in=LOAN_OPEN_STATES).count() <= INLINE_MAX_LOANS


def job_label(key: str) -> str:
    spec = after_close_jobs.get(key)
    return str(spec.label) if spec is not None else _("已移除的作业")


def job_results(job: EodJob) -> list[tuple[str, Any]]:
    """The job's counts under their display names (the job's own, then the common ones); counts
    nobody named are summed as 其他 — raw keys are never shown."""
    spec = after_close_jobs.get(job.key)
    labels = {**COMMON_RESULT_LABELS, **(dict(spec.result_labels) if spec else {})}
    rows: list[tuple[str, Any]] = []
    other: float = 0
    for key, value in (job.result or {}).items():
        if key in labels:
            rows.append((str(labels[key]), value))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            other += value
    if other:
        rows.append((_("其他"), other))
    return rows


def job_rows(run: EodRun) -> list[dict[str, Any]]:
    return [
        {
            "job": job,
            "label": job_label(job.key),
            "results": job_results(job),
            "seconds": job.duration.total_seconds() if job.duration is not None else None,
        }
        for job in run.jobs.order_by("order", "id")
    ]


@login_required
@permission_required("lending.run_eod", raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(_with_job_counts(EodRun.objects.all()), pk=pk)
    jobs = job_rows(run)
    context = {
        "run": run,
        "chunks": run.chunks.order_by("first_loan_id")[:500],
        "jobs": jobs,
        "jobs_open": any(
            r["job"].status in (EodJob.Status.PENDING, EodJob.Status.RUNNING) for r in jobs
        ),
    }
    if request.headers.get("HX-Request") and request.GET.get("row"):
        return render(request, "lending/eod_run_row.html", context)
    if request.headers.get("HX-Request"):
        return render(request, "lending/eod_run_status.html", context)
    return render(request, "lending/eod_run_detail.html", context)


@login_required
@permission_required("lending.run_eod", raise_exception=True)
@require_POST
def job_retry_view(request: HttpRequest, pk: int, job_pk: int) -> HttpResponse:
    """重试 a failed after-close job: here for a small book, queued for a large one."""
    job = get_object_or_404(EodJob, pk=job_pk, run_id=pk)
    if job.status != EodJob.Status.FAILED:
        messages.warning(request, _("只能重试失败的作业。"))
        return redirect("lending_eod:run_detail", pk=pk)
    label = job_label(job.key)
    result = job_retry(job, actor=request.user, inline=_inline())
    if result is None or result.status == EodJob.Status.PENDING:
        messages.info(request, _("作业“%(j)s”已提交重试。") % {"j": label})
    elif result.status == EodJob.Status.DONE:
        messages.success(request, _("作业“%(j)s”重试成功。") % {"j": label})
    else:
        messages.error(request, _("作业“%(j)s”重试失败：%(e)s") % {"j": label, "e": result.error})
    return redirect("lending_eod:run_detail", pk=pk)
