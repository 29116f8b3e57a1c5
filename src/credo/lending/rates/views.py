"""贷款市场报价利率 page: the LPR table (history, the fixing in force) with add and edit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core import clock
from credo.core.forms import IsoDateInput, StyledFormMixin
from credo.lending.errors import LendingError
from credo.lending.rates import services
from credo.lending.rates.models import LprRate


class LprForm(StyledFormMixin, forms.Form):
    effective_date = forms.DateField(
        label=gettext_lazy("生效日（发布日）"),
        widget=IsoDateInput(),
        help_text=gettext_lazy("每月 20 日发布（遇节假日顺延），自发布日起适用"),
    )
    one_year = forms.DecimalField(
        label=gettext_lazy("1 年期 LPR（%）"),
        min_value=Decimal("0.0001"),
        max_value=Decimal("99"),
        max_digits=6,
        decimal_places=4,
    )
    five_year = forms.DecimalField(
        label=gettext_lazy("5 年期以上 LPR（%）"),
        min_value=Decimal("0.0001"),
        max_value=Decimal("99"),
        max_digits=6,
        decimal_places=4,
    )
    source = forms.CharField(
        label=gettext_lazy("来源说明"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("如：全国银行间同业拆借中心公告"),
    )


def _require_manage(request: HttpRequest) -> None:
    if not services.can_manage(request.user):
        raise PermissionDenied


@login_required
def lpr_list(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    today = clock.today()
    rows = list(LprRate.objects.order_by("-effective_date"))
    current = next((r for r in rows if r.effective_date <= today), None)
    return render(
        request,
        "lending/lpr_list.html",
        {"rows": rows, "current": current, "today": today},
    )


@login_required
def lpr_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_manage(request)
    instance = get_object_or_404(LprRate, pk=pk) if pk is not None else None
    initial: dict[str, Any] = {"effective_date": clock.today()}
    if instance is not None:
        initial = {
            "effective_date": instance.effective_date,
            "one_year": instance.one_year.normalize(),
            "five_year": instance.five_year.normalize(),
            "source": instance.source,
        }
    form = LprForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.lpr_save(
                actor=request.user,
                effective_date=data["effective_date"],
                one_year=data["one_year"],
                five_year=data["five_year"],
                source=data["source"],
                instance=instance,
            )
        except LendingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("LPR 已保存。"))
            return redirect("lending:lpr_list")
    return render(request, "lending/lpr_form.html", {"form": form, "row": instance})
