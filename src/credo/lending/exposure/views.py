"""Pages of 集中度管理: the concentration report (with its Excel export), net assets (净资产)
and the limits. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core import clock
from credo.core.forms import IsoDateInput, StyledFormMixin
from credo.core.money import Money
from credo.lending.errors import LendingError
from credo.lending.exposure import exports, selectors, services
from credo.lending.exposure.models import ConcentrationLimits, NetAssets

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require(user: Any, *perms: str) -> None:
    if not any(user.has_perm(p) for p in perms):
        raise PermissionDenied


class NetAssetsForm(StyledFormMixin, forms.Form):
    effective_date = forms.DateField(
        label=gettext_lazy("生效日期"),
        widget=IsoDateInput(),
        help_text=gettext_lazy("通常为月末资产负债表日；自该日起适用，直至下一条记录"),
    )
    amount = forms.DecimalField(
        label=gettext_lazy("净资产（元）"),
        min_value=Decimal("0.01"),
        max_digits=17,
        decimal_places=2,
    )
    note = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)


class LimitsForm(StyledFormMixin, forms.Form):
    single_pct = forms.DecimalField(
        label=gettext_lazy("单一借款人上限（% 净资产）"), max_digits=5, decimal_places=2
    )
    group_pct = forms.DecimalField(
        label=gettext_lazy("借款人及其关联方上限（% 净资产）"), max_digits=5, decimal_places=2
    )
    top10_pct = forms.DecimalField(
        label=gettext_lazy("前十大借款人合计上限（% 净资产）"), max_digits=6, decimal_places=2
    )
    shareholder_min_pct = forms.DecimalField(
        label=gettext_lazy("关联股东持股比例下限（%）"),
        max_digits=6,
        decimal_places=3,
        help_text=gettext_lazy("持股达到该比例（或未登记比例）的股东关系计入关联方集团"),
    )
    note = forms.CharField(label=gettext_lazy("调整说明"), max_length=200)


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """集中度报表: top borrowers and groups, share of net assets, headroom."""
    _require(request.user, services.VIEW, services.MANAGE)
    data = selectors.concentration_report()
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(exports.report_xlsx(data), content_type=XLSX)
        name = f"concentration-{data.day:%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(
        request,
        "lending/exposure/report.html",
        {"report": data, "can_manage": request.user.has_perm(services.MANAGE)},
    )


@login_required
def net_assets(request: HttpRequest) -> HttpResponse:
    """净资产: the entries by effective date and a form to add or correct one."""
    _require(request.user, services.MANAGE)
    form = NetAssetsForm(request.POST or None, initial={"effective_date": clock.today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.net_assets_set(
                effective_date=data["effective_date"],
                amount=Money(data["amount"]),
                note=data["note"],
                actor=request.user,
            )
        except LendingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("净资产已保存。"))
            return redirect("lending:exposure:net_assets")
    rows = NetAssets.objects.select_related("entered_by").order_by("-effective_date")[:120]
    return render(
        request,
        "lending/exposure/net_assets.html",
        {"form": form, "rows": rows, "current": selectors.net_assets_on()},
    )


@login_required
def limits(request: HttpRequest) -> HttpResponse:
    """集中度限额: the limits in force, a form for a new version, the version history."""
    _require(request.user, services.MANAGE)
    current = selectors.current_limits()
    form = LimitsForm(
        request.POST or None,
        initial={k: getattr(current, k).normalize() for k in services.LIMIT_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.limits_update(actor=request.user, **form.cleaned_data)
        except LendingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("集中度限额已保存。"))
            return redirect("lending:exposure:limits")
    history = ConcentrationLimits.objects.select_related("created_by").order_by("-version")[:50]
    return render(
        request,
        "lending/exposure/limits.html",
        {"form": form, "current": current, "history": history},
    )
