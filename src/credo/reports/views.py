from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from credo.core import clock, figcache
from credo.core.audit.services import audit_record
from credo.core.dbrouter import uses_replica
from credo.core.money import fen_to_yuan
from credo.reports import exporting, kpis, services, standard
from credo.reports.datasets import (
    FILTER_OPS,
    QueryError,
    Result,
    datasets_for,
    display_value,
    get_dataset,
    run_query,
)
from credo.reports.models import ReportRun, ReportSchedule, SavedReport

OP_LABELS = {
    "eq": gettext_lazy("等于"),
    "ne": gettext_lazy("不等于"),
    "in": gettext_lazy("属于（逗号分隔）"),
    "gte": gettext_lazy("大于等于"),
    "lte": gettext_lazy("小于等于"),
    "contains": gettext_lazy("包含"),
    "isnull": gettext_lazy("为空（是/否）"),
}
PERIODS = {
    "day": gettext_lazy("今天"),
    "week": gettext_lazy("本周"),
    "month": gettext_lazy("本月"),
    "year": gettext_lazy("本年"),
}


def _table(result: Result) -> list[list[dict[str, Any]]]:
    return [
        [{"text": display_value(c, r), "num": c["type"] == "measure"} for c in result.columns]
        for r in result.rows
    ]


def _chart_data(result: Result, chart: str) -> dict[str, Any]:
    dims = [c for c in result.columns if c["type"] == "dimension"]
    measures = [c for c in result.columns if c["type"] == "measure"]
    if chart == "funnel" and not dims and result.rows:
        # a funnel of totals: one stage per measure
        row = result.rows[0]
        return {
            "chart": "funnel",
            "labels": [m["label"] for m in measures],
            "series": [
                {
                    "name": _("数量"),
                    "fmt": "int",
                    "data": [float(row.get(m["key"]) or 0) for m in measures],
                }
            ],
        }
    return {
        "chart": chart,
        "labels": [display_value(dims[0], r) for r in result.rows] if dims else [_("合计")],
        "series": [
            {
                "name": m["label"],
                "fmt": m["fmt"],
                "data": [
                    (
                        float(fen_to_yuan(int(r[m["key"]])))
                        if m["fmt"] == "money"
                        else float(r[m["key"]] or 0)
                    )
                    if r.get(m["key"]) is not None
                    else None
                    for r in result.rows
                ],
            }
            for m in measures
        ],
    }


# --- dashboard -----------------------------------------------------------------------------------
@login_required
@uses_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "month")
    if period not in PERIODS:
        period = "month"
    today = clock.today()
    user = request.user
    # cached per user while the data version is unchanged (core/figcache.py)
    cards, trend = figcache.cached(
        user,
        "dashboard",
        lambda: (
            kpis.compute(user, period, today),
            services.trend(user, 30, today) if user.has_perm("lending.view_loan") else [],
        ),
        period,
        today,
    )
    pinned = []
    for report in SavedReport.objects.filter(owner_id=request.user.pk, on_dashboard=True)[:6]:
        try:
            result = run_query(request.user, report.spec)
        except QueryError as exc:
            pinned.append({"report": report, "error": exc.message})
            continue
        pinned.append(
            {
                "report": report,
                "result": result,
                "table": _table(result),
                "chart": _chart_data(result, report.chart),
                "cid": f"pin-{report.pk}",
            }
        )
    return render(
        request,
        "reports/dashboard.html",
        {
            "cards": cards,
            "period": period,
            "periods": PERIODS,
            "trend": trend,
            "trend_chart": {
                "chart": "line",
                "labels": [t["date"] for t in trend],
                "series": [
                    {
                        "name": _("贷款余额（元）"),
                        "fmt": "money",
                        "data": [float(fen_to_yuan(t["outstanding"])) for t in trend],
                    },
                    {
                        "name": _("逾期率（余额）"),
                        "fmt": "pct",
                        "data": [t["overdue_rate"] for t in trend],
                    },
                ],
            },
            "pinned": pinned,
            "today": today,
        },
    )


# --- builder -------------------------------------------------------------------------------------
def _spec_from(params: Any) -> dict[str, Any]:
    filters = []
    for i in range(1, 4):
        dim = params.get(f"f{i}_dim")
        if not dim:
            continue
        op = params.get(f"f{i}_op") or "eq"
        raw = (params.get(f"f{i}_val") or "").strip()
        value: Any = raw
        if op == "in":
            value = [v.strip() for v in raw.replace("，", ",").split(",") if v.strip()]
        elif op == "isnull":
            value = raw in ("1", "是", "true", "yes")
        filters.append({"dimension": dim, "op": op, "value": value})
    return {
        "dataset": params.get("dataset") or "",
        "dimensions": [d for d in params.getlist("d") if d],
        "measures": [m for m in params.getlist("m") if m],
        "filters": filters,
        "order": params.get("order") or "",
    }


def _filter_row(f: dict[str, Any], i: int) -> dict[str, Any]:
    value = f.get("value")
    if isinstance(value, list):
        text = ",".join(str(v) for v in value)
    elif isinstance(value, bool):
        text = "1" if value else "0"
    else:
        text = "" if value is None else str(value)
    return {**f, "i": i, "text": text}


def _builder_context(request: HttpRequest, spec: dict[str, Any], chart: str) -> dict[str, Any]:
    available = datasets_for(request.user)
    ctx: dict[str, Any] = {
        "datasets": available,
        "spec": spec,
        "chart": chart,
        "charts": SavedReport.Chart.choices,
        "ops": [(op, OP_LABELS[op]) for op in FILTER_OPS],
        "filter_rows": [
            _filter_row(spec["filters"][i - 1] if i <= len(spec["filters"]) else {}, i)
            for i in range(1, 4)
        ],
    }
    if spec["dataset"]:
        try:
            ds = get_dataset(spec["dataset"], request.user)
        except QueryError as exc:
            ctx["error"] = exc.message
            return ctx
        ctx["dataset"] = ds
        ctx["dimensions"] = list(ds.dims_for(request.user).values())
        ctx["measures"] = ds.measures
    return ctx


@login_required
@permission_required("reports.build_report", raise_exception=True)
def builder(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    report = None
    if pk is not None:
        report = _report_for(request, pk)
    if request.method == "POST":
        spec = _spec_from(request.POST)
        chart = request.POST.get("chart", "table")
        try:
            report = services.report_save(
                actor=request.user,
                name=request.POST.get("name", ""),
                spec=spec,
                chart=chart,
                shared=bool(request.POST.get("shared")),
                on_dashboard=bool(request.POST.get("on_dashboard")),
                report=report if report and report.owner_id == request.user.pk else None,
            )
        except services.ReportError as exc:
            ctx = _builder_context(request, spec, chart)
            ctx.update(
                {"error": exc.message, "name": request.POST.get("name", ""), "report": report}
            )
            return render(request, "reports/builder.html", ctx, status=422)
        messages.success(request, _("报表已保存。"))
        return redirect("reports:report", pk=report.pk)
    if report is not None and "dataset" not in request.GET:
        spec, chart = dict(report.spec), report.chart
    else:
        spec, chart = _spec_from(request.GET), request.GET.get("chart", "table")
    ctx = _builder_context(request, spec, chart)
    ctx["report"] = report
    ctx["name"] = report.name if report else ""
    if spec["dataset"] and spec["measures"] and "error" not in ctx:
        try:
            result = run_query(request.user, spec)
            ctx.update(result=result, table=_table(result), chart_data=_chart_data(result, chart))
        except QueryError as exc:
            ctx["error"] = exc.message
    return render(request, "reports/builder.html", ctx)


def _report_for(request: HttpRequest, pk: int) -> SavedReport:
    report = get_object_or_404(SavedReport, pk=pk)
    if report.owner_id != request.user.pk and not report.shared:
        raise Http404
    return report


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    reports = SavedReport.objects.filter(Q(owner=request.user) | Q(shared=True)).select_related(
        "owner"
    )
    return render(
        request,
        "reports/report_list.html",
        {
            "reports": reports,
            "standard": {
                key: {
                    **d,
                    "visible": request.user.has_perm(d.get("permission", "lending.view_loan")),
                }
                for key, d in standard.STANDARD_SPECS.items()
            },
        },
    )


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_for(request, pk)
    ctx: dict[str, Any] = {"report": report, "schedules": report.schedules.all()}
    try:
        result = run_query(request.user, report.spec)
        ctx.update(
            result=result, table=_table(result), chart_data=_chart_data(result, report.chart)
        )
    except QueryError as exc:
        ctx["error"] = exc.message
    from credo.accounts.models import User

    ctx["users"] = User.objects.filter(is_active=True).order_by("username")[:500]
    ctx["frequencies"] = ReportSchedule.Frequency.choices
    ctx["channels"] = [(c, c) for c in services.CHANNELS]
    ctx["runs"] = ReportRun.objects.filter(schedule__report=report)[:20]
    return render(request, "reports/report_detail.html", ctx)


@login_required
@require_POST
def report_delete(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_for(request, pk)
    try:
        services.report_delete(report=report, actor=request.user)
    except services.ReportError as exc:
        messages.error(request, exc.message)
        return redirect("reports:report", pk=pk)
    messages.success(request, _("报表已删除。"))
    return redirect("reports:list")


@login_required
@require_POST
@permission_required("reports.schedule_report", raise_exception=True)
def report_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    from credo.accounts.models import User

    report = _report_for(request, pk)
    try:
        time = dt.time.fromisoformat(request.POST.get("time") or "")
    except ValueError:
        messages.error(request, _("请填写有效的发送时间（HH:MM）。"))
        return redirect("reports:report", pk=pk)

    def _int(name: str) -> int | None:
        raw = request.POST.get(name) or ""
        return int(raw) if raw.isdecimal() else None

    try:
        services.schedule_create(
            report=report,
            actor=request.user,
            frequency=request.POST.get("frequency", ""),
            time=time,
            weekday=_int("weekday"),
            day_of_month=_int("day_of_month"),
            recipients=list(User.objects.filter(pk__in=request.POST.getlist("recipients"))),
            channels=request.POST.getlist("channels"),
        )
    except services.ReportError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已设置定时发送。"))
    return redirect("reports:report", pk=pk)


def _export(
    request: HttpRequest, result: Result, title: str, fmt: str, dataset: str = ""
) -> HttpResponse:
    audit_record(
        action="report.export",
        actor=request.user,
        object_type="reports.export",
        object_repr=title,
        metadata={"format": fmt, "rows": len(result.rows)},
    )
    stamp = clock.today().strftime("%Y%m%d")
    if fmt == "pdf":
        data = exporting.to_pdf(result, title, subtitle=stamp)
        response = HttpResponse(data, content_type="application/pdf")
    else:
        data = exporting.xlsx_for(dataset, request.user, result, title)
        response = HttpResponse(
            data,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    from urllib.parse import quote

    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote(title, safe='')}-{stamp}.{'pdf' if fmt == 'pdf' else 'xlsx'}"
    )
    return response


@login_required
@uses_replica
def report_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    report = _report_for(request, pk)
    try:
        result = run_query(request.user, report.spec)
    except QueryError as exc:
        messages.error(request, exc.message)
        return redirect("reports:report", pk=pk)
    return _export(request, result, report.name, fmt, report.dataset)


@login_required
@uses_replica
def run_export(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ReportRun.objects.select_related("schedule__report"), pk=pk)
    schedule = run.schedule
    if not (
        schedule.recipients.filter(pk=cast(int, request.user.pk)).exists()
        or schedule.report.owner_id == request.user.pk
    ):
        raise PermissionDenied
    # rows visible to the *reader* (field permissions and scope are always the reader's)
    result = run_query(request.user, schedule.report.spec)
    return _export(request, result, schedule.report.name, "xlsx", schedule.report.dataset)


# --- standard reports ----------------------------------------------------------------------------
@login_required
@uses_replica
def standard_report(request: HttpRequest, key: str) -> HttpResponse:
    definition = standard.STANDARD_SPECS.get(key)
    if definition is None:
        raise Http404
    if not request.user.has_perm(definition.get("permission", "lending.view_loan")):
        raise PermissionDenied
    try:
        result = run_query(request.user, definition["spec"])
    except QueryError:  # the dataset's app is not installed
        raise Http404 from None
    fmt = request.GET.get("export")
    if fmt in ("xlsx", "pdf"):
        return _export(request, result, str(definition["title"]), fmt)
    return render(
        request,
        "reports/standard.html",
        {
            "key": key,
            "title": definition["title"],
            "result": result,
            "table": _table(result),
            "chart_data": _chart_data(result, definition["chart"]),
        },
    )


@login_required
@permission_required("lending.view_loan", raise_exception=True)
@uses_replica
def vintage_report(request: HttpRequest) -> HttpResponse:
    by = "principal" if request.GET.get("by") == "principal" else "count"
    try:
        threshold = max(1, min(360, int(request.GET.get("dpd") or 30)))
    except ValueError:
        threshold = 30
    v = standard.vintage(request.user, threshold=threshold, max_mob=12, by=by)
    chart = {
        "chart": "line",
        "labels": [f"MOB{m}" for m in v.months],
        "series": [
            {
                "name": r["cohort"].strftime("%Y-%m"),
                "fmt": "pct",
                "data": [float(x) if x is not None else None for x in r["rates"]],
            }
            for r in v.rows
        ],
    }
    return render(
        request,
        "reports/vintage.html",
        {"v": v, "by": by, "threshold": threshold, "chart_data": chart},
    )


@login_required
@permission_required("lending.view_loan", raise_exception=True)
@uses_replica
def roll_rate_report(request: HttpRequest) -> HttpResponse:
    month = None
    if request.GET.get("month"):
        try:
            month = dt.date.fromisoformat(request.GET["month"] + "-01")
        except ValueError:
            messages.error(request, _("月份格式应为 YYYY-MM。"))
    data = standard.roll_rates(request.user, month)
    rows = [
        {
            "src": src,
            "total": data["totals"].get(src, 0),
            "cells": [data["matrix"][src][dst] for dst in data["buckets"]],
        }
        for src in data["matrix"]
    ]
    return render(request, "reports/roll_rates.html", {"data": data, "rows": rows})


@login_required
@permission_required("lending.view_loan", raise_exception=True)
@uses_replica
def forecast_report(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "reports/forecast.html",
        {"rows": standard.repayment_forecast(request.user), "today": clock.today()},
    )


@login_required
@permission_required("lending.view_loan", raise_exception=True)
@uses_replica
def staff_report(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    start = today.replace(day=1)
    try:
        if request.GET.get("from"):
            start = dt.date.fromisoformat(request.GET["from"])
        end = dt.date.fromisoformat(request.GET["to"]) if request.GET.get("to") else today
    except ValueError:
        messages.error(request, _("日期格式应为 YYYY-MM-DD。"))
        end = today
    rows = standard.staff_performance(request.user, start, end)
    return render(request, "reports/staff.html", {"rows": rows, "start": start, "end": end})
