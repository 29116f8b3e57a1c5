"""The 节假日 page: a year of the calendar (month grid + list), add/edit/delete a day, Excel
import (upload → preview with row errors → confirm, all or nothing) and export."""

from __future__ import annotations

import calendar as pycal
import datetime as dt
from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from credo.core import clock
from credo.core.holidays import services
from credo.core.holidays.data import YEARS as SHIPPED_YEARS
from credo.core.holidays.forms import HolidayForm, HolidayImportForm
from credo.core.models import Holiday

PERM, VIEW_PERM = services.PERM, services.VIEW_PERM
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_BYTES = 2 * 1024 * 1024
SIGN_SALT = "credo.holidays.import"
SIGN_MAX_AGE = 3600
WEEKDAYS = (
    pgettext_lazy("weekday short", "一"),
    pgettext_lazy("weekday short", "二"),
    pgettext_lazy("weekday short", "三"),
    pgettext_lazy("weekday short", "四"),
    pgettext_lazy("weekday short", "五"),
    pgettext_lazy("weekday short", "六"),
    pgettext_lazy("weekday short", "日"),
)


def _year(request: HttpRequest, default: int) -> int:
    try:
        year = int(request.GET.get("year") or default)
    except ValueError:
        return default
    return year if services.MIN_YEAR <= year <= services.MAX_YEAR else default


def _year_url(year: int) -> str:
    return f"{reverse('core:holidays')}?year={year}"


def _months(year: int, days: dict[dt.date, Holiday], today: dt.date) -> list[dict[str, Any]]:
    months = []
    cal = pycal.Calendar(firstweekday=0)
    for month in range(1, 13):
        weeks = []
        for week in cal.monthdatescalendar(year, month):
            cells: list[dict[str, Any] | None] = []
            for d in week:
                if d.month != month:
                    cells.append(None)
                    continue
                h = days.get(d)
                if h is not None:
                    state = h.kind
                elif d.weekday() >= 5:
                    state = "weekend"
                else:
                    state = "working"
                cells.append({"date": d, "state": state, "holiday": h, "today": d == today})
            weeks.append(cells)
        months.append({"number": month, "weeks": weeks})
    return months


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
def holiday_year(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    year = _year(request, today.year)
    rows = services.year_days(year)
    by_date = {h.date: h for h in rows}
    years = sorted({*services.years_with_data(), today.year, today.year + 1, year})
    return render(
        request,
        "core/holidays/year.html",
        {
            "year": year,
            "years": years,
            "rows": rows,
            "months": _months(year, by_date, today),
            "weekdays": WEEKDAYS,
            "n_holidays": sum(1 for h in rows if h.kind == Holiday.Kind.HOLIDAY),
            "n_workdays": sum(1 for h in rows if h.kind == Holiday.Kind.WORKDAY),
            "missing_next": services.missing_next_year(today),
            "shipped": year in SHIPPED_YEARS,
            "can_manage": request.user.has_perm(PERM),
        },
    )


@login_required
@permission_required(PERM, raise_exception=True)
def holiday_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    holiday = get_object_or_404(Holiday, pk=pk) if pk else None
    if holiday is not None:
        initial: dict[str, Any] = {"date": holiday.date, "kind": holiday.kind, "name": holiday.name}
    else:
        initial = {"kind": Holiday.Kind.HOLIDAY}
        given = request.GET.get("date") or ""
        try:
            initial["date"] = dt.date.fromisoformat(given)
        except ValueError:
            pass
        else:
            existing = Holiday.objects.filter(date=initial["date"]).first()
            if existing is not None:
                return redirect("core:holiday_edit", pk=existing.pk)
            if initial["date"].weekday() >= 5:
                initial["kind"] = Holiday.Kind.WORKDAY
    form = HolidayForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            row = services.holiday_save(
                actor=request.user,
                holiday=holiday,
                date=form.cleaned_data["date"],
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
            )
        except services.HolidayError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已保存 %(d)s。") % {"d": row.date.isoformat()})
            return redirect(_year_url(row.date.year))
    return render(request, "core/holidays/form.html", {"form": form, "holiday": holiday})


@login_required
@require_POST
@permission_required(PERM, raise_exception=True)
def holiday_delete(request: HttpRequest, pk: int) -> HttpResponse:
    holiday = get_object_or_404(Holiday, pk=pk)
    year = holiday.year
    try:
        services.holiday_delete(actor=request.user, holiday=holiday)
    except services.HolidayError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除 %(d)s。") % {"d": holiday.date.isoformat()})
    return redirect(_year_url(year))


def _payload(preview: services.ImportPreview, filename: str) -> str:
    rows = [[r.row_number, r.date.isoformat(), r.kind, r.name] for r in preview.rows]
    return signing.dumps({"file": filename, "rows": rows}, salt=SIGN_SALT, compress=True)


def _from_payload(token: str) -> tuple[services.ImportPreview, str]:
    data = signing.loads(token, salt=SIGN_SALT, max_age=SIGN_MAX_AGE)
    preview = services.ImportPreview(
        rows=[
            services.ParsedDay(int(n), dt.date.fromisoformat(d), str(k), str(name))
            for n, d, k, name in data["rows"]
        ]
    )
    return preview, str(data["file"])


@login_required
@permission_required(PERM, raise_exception=True)
def holiday_import(request: HttpRequest) -> HttpResponse:
    form = HolidayImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = (upload.name or "")[:120]
        if PurePath(name).suffix.lower() not in (".xlsx", ".csv"):
            form.add_error("file", _("只支持 .xlsx 或 .csv 文件。"))
        elif (upload.size or 0) > MAX_IMPORT_BYTES:
            form.add_error("file", _("文件不能超过 2 MB。"))
        else:
            try:
                preview = services.parse_file(upload, name)
            except services.HolidayError as exc:
                form.add_error("file", exc.message)
            else:
                return render(
                    request,
                    "core/holidays/import_preview.html",
                    {
                        "name": name,
                        "preview": preview,
                        "payload": _payload(preview, name) if preview.ok else "",
                    },
                )
    return render(request, "core/holidays/import.html", {"form": form})


@login_required
@require_POST
@permission_required(PERM, raise_exception=True)
def holiday_import_confirm(request: HttpRequest) -> HttpResponse:
    try:
        preview, name = _from_payload(request.POST.get("payload") or "")
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        messages.error(request, _("导入预览已失效，请重新上传。"))
        return redirect("core:holiday_import")
    try:
        result = services.holiday_import(actor=request.user, preview=preview, filename=name)
    except services.HolidayError as exc:
        messages.error(request, exc.message)
        return redirect("core:holiday_import")
    messages.success(
        request,
        _("导入完成：新增 %(c)s 天，更新 %(u)s 天，%(s)s 天无变化。")
        % {"c": result.created, "u": result.updated, "s": result.unchanged},
    )
    return redirect(_year_url(preview.years[0] if preview.years else clock.today().year))


@login_required
@permission_required(VIEW_PERM, raise_exception=True)
def holiday_export(request: HttpRequest) -> HttpResponse:
    year = _year(request, clock.today().year)
    response = HttpResponse(services.export_xlsx(year), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''holidays-{year}.xlsx"
    return response


@login_required
@require_POST
@permission_required(PERM, raise_exception=True)
def holiday_load_default(request: HttpRequest) -> HttpResponse:
    year = _year(request, clock.today().year)
    try:
        year = int(request.POST.get("year") or year)
        result = services.holidays_load_default(actor=request.user, year=year)
    except (ValueError, services.HolidayError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(
            request,
            _("已载入 %(y)s 年国务院办公厅通知：新增 %(c)s 天，更新 %(u)s 天。")
            % {"y": year, "c": result.created, "u": result.updated},
        )
    return redirect(_year_url(year))
