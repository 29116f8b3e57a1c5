"""The supervisory report page (监管报表): a chosen month, its Excel and PDF, and the way to its
scheduled delivery (a saved report of the ``supervisory`` dataset, scheduled as any other)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.dbrouter import uses_replica
from credo.reports import services, supervisory
from credo.reports.models import SavedReport

SCHEDULE_REPORT_NAME = "监管报表（小额贷款公司贷款统计月报）"


def _month_param(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(f"{(raw or '').strip()}-01") if raw else None
    except ValueError:
        return None


def _default_month() -> dt.date:
    latest = supervisory.latest_frozen()
    if latest is not None:
        return latest
    return supervisory.month_start(clock.today().replace(day=1) - dt.timedelta(days=1))


def _recent_months(today: dt.date, n: int = 24) -> list[dt.date]:
    months, m = [], supervisory.month_start(today)
    for _i in range(n):
        m = supervisory.month_start(m - dt.timedelta(days=1))
        months.append(m)
    return months


@login_required
@permission_required(supervisory.VIEW_PERMISSION, raise_exception=True)
@uses_replica
def supervisory_report(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    month = _month_param(request.GET.get("month")) or _default_month()
    ctx: dict[str, Any] = {
        "month": month,
        "months": sorted(
            set(_recent_months(today)) | set(supervisory.frozen_months()), reverse=True
        ),
        "can_schedule": request.user.has_perm("reports.schedule_report"),
    }
    if supervisory.month_end(month) >= today:
        ctx["error"] = _("%(m)s 尚未结束，监管报表只能按已结束的月份生成。") % {
            "m": month.strftime("%Y-%m")
        }
        return render(request, "reports/supervisory.html", ctx, status=400)
    summary = supervisory.load(month)
    if summary is None:  # never frozen: computed now from the data as of that month end
        summary = supervisory.compute(month)
        ctx["live"] = True
    report = supervisory.build_report(summary)
    fmt = request.GET.get("export")
    if fmt in ("xlsx", "pdf"):
        from credo.reports import supervisory_export

        audit_record(
            action="report.export",
            actor=request.user,
            object_type="reports.supervisory",
            object_repr=report["title"],
            metadata={"format": fmt, "month": month.strftime("%Y-%m"), "frozen": "live" not in ctx},
        )
        name = f"{report['title']}.{fmt}"
        if fmt == "pdf":
            response = HttpResponse(
                supervisory_export.to_pdf(report), content_type="application/pdf"
            )
        else:
            response = HttpResponse(
                supervisory_export.to_xlsx(report),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
        return response
    ctx.update(report=report, summary=summary, **_display(report))
    return render(request, "reports/supervisory.html", ctx)


@login_required
@require_POST
@permission_required(supervisory.VIEW_PERMISSION, raise_exception=True)
@permission_required("reports.schedule_report", raise_exception=True)
def supervisory_schedule(request: HttpRequest) -> HttpResponse:
    """The user's saved report of the ``supervisory`` dataset (created once, shared), whose page
    has the usual 定时发送 form."""
    report = SavedReport.objects.filter(owner_id=request.user.pk, dataset="supervisory").first()
    if report is None:
        try:
            report = services.report_save(
                actor=request.user,
                name=SCHEDULE_REPORT_NAME,
                spec={
                    "dataset": "supervisory",
                    "dimensions": ["table", "bucket"],
                    "measures": ["loans", "balance", "overdue_balance", "npl_balance"],
                },
                shared=True,
            )
        except services.ReportError as exc:
            messages.error(request, exc.message)
            return redirect("reports:supervisory")
    messages.info(
        request, _("在此设置定时发送：邮件附件为固定格式的监管报表 Excel（最近冻结月份）。")
    )
    return redirect("reports:report", pk=report.pk)


def _display(report: dict[str, Any]) -> dict[str, Any]:
    from credo.reports.supervisory_export import section_titles

    show = supervisory.display
    titles = section_titles(report)
    return {
        "titles": titles,
        "indicators": [(label, show(v, fmt)) for label, v, fmt in report["indicators"]],
        "sections": [
            {
                "key": s["key"],
                "title": titles[i],
                "rows": [
                    {
                        "label": r["label"],
                        "total": r.get("total", False),
                        "cells": [show(r[k], fmt) for k, _l, fmt in report["columns"]],
                    }
                    for r in s["rows"]
                ],
            }
            for i, s in enumerate(report["sections"], 1)
        ],
        "top": [[show(r[k], fmt) for k, _l, fmt in report["top_columns"]] for r in report["top"]],
        "top_share": show(report["top_share"], "pct"),
    }
