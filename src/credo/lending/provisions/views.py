"""Pages of 贷款损失准备: the provision report of a month (with its Excel export and the run
button), the run, and the rates. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.core import clock
from credo.lending.books.selectors import month_start, parse_month, prev_month
from credo.lending.errors import LendingError
from credo.lending.provisions import exports, selectors, services
from credo.lending.provisions.forms import RatesForm, RunForm
from credo.lending.provisions.models import ProvisionRates, ProvisionRun

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require(user: Any, *perms: str) -> None:
    if not any(user.has_perm(p) for p in perms):
        raise PermissionDenied


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """贷款损失准备: a month's latest run by class and by product × class, the postings per
    product, the runs of the month; the run form for finance."""
    _require(request.user, services.VIEW, services.MANAGE)
    default = prev_month(month_start(clock.today()))
    month = default
    text = request.GET.get("period") or ""
    if text:
        try:
            month = parse_month(text)
        except ValueError:
            messages.error(request, _("请按 YYYY-MM 填写会计期间。"))
    elif (last := selectors.latest_run()) is not None:
        month = last.month
    run = selectors.latest_run(month)
    data = selectors.provision_report(run)
    if request.GET.get("format") == "xlsx":
        if run is None:
            messages.error(request, _("该期间尚未计提。"))
            return redirect(f"{reverse('lending:provisions:report')}?period={month:%Y-%m}")
        response = HttpResponse(exports.report_xlsx(data), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="provisions-{month:%Y-%m}.xlsx"'
        return response
    can_run = request.user.has_perm(services.MANAGE)
    return render(
        request,
        "lending/provisions/report.html",
        {
            "month": month,
            "label": month.strftime("%Y-%m"),
            "report": data,
            "runs": ProvisionRun.objects.filter(month=month).select_related("actor"),
            "recent": ProvisionRun.objects.order_by("-month", "-sequence")[:12],
            "blockers": services.run_blockers(month) if can_run else [],
            "can_run": can_run,
            "run_form": RunForm(initial={"month": month.strftime("%Y-%m")}),
            "rates": selectors.current_rates(),
        },
    )


@login_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    """执行计提 of a month (permission ``lending.manage_provisions``)."""
    _require(request.user, services.MANAGE)
    form = RunForm(request.POST)
    target = reverse("lending:provisions:report")
    if not form.is_valid():
        messages.error(request, _("请按 YYYY-MM 填写会计期间。"))
        return redirect(target)
    month = parse_month(form.cleaned_data["month"])
    target = f"{target}?period={month:%Y-%m}"
    try:
        result, created = services.provision_run(month=month, actor=request.user)
    except LendingError as exc:
        messages.error(request, exc.message)
        return redirect(target)
    if created:
        messages.success(
            request,
            _("%(m)s 贷款损失准备已计提：应计提 %(r)s 元，本次计提 %(p)s 元。")
            % {
                "m": result.label,
                "r": result.required.format(symbol=False),
                "p": _yuan(result.posted),
            },
        )
    else:
        messages.info(request, _("%(m)s 的计提结果没有变化，未重复记账。") % {"m": result.label})
    return redirect(target)


def _yuan(fen: int) -> str:
    from credo.core.money import format_fen

    return format_fen(fen)


@login_required
def rates(request: HttpRequest) -> HttpResponse:
    """计提比例: the rates in force, a form for a new version, the version history."""
    _require(request.user, services.MANAGE)
    current = selectors.current_rates()
    form = RatesForm(
        request.POST or None,
        initial={k: Decimal(getattr(current, k)).normalize() for k in services.RATE_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.rates_update(actor=request.user, **form.cleaned_data)
        except LendingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("计提比例已保存为新版本。"))
            return redirect("lending:provisions:rates")
    history = ProvisionRates.objects.select_related("created_by").order_by("-version")[:50]
    return render(
        request,
        "lending/provisions/rates.html",
        {"form": form, "current": current, "history": history},
    )
