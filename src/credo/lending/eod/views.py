"""日终批处理 pages: the runs list with a run form, and one run with its chunks."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core import clock
from credo.core.forms import IsoDateInput
from credo.lending.eod import EodError, last_done_date, run_eod
from credo.lending.models import EodRun, Loan
from credo.lending.states import LOAN_OPEN_STATES

# Books up to this many open loans run in the request; bigger ones are queued as chunk tasks.
INLINE_MAX_LOANS = 20_000


class EodRunForm(forms.Form):
    business_date = forms.DateField(
        label=gettext_lazy("业务日期"),
        widget=IsoDateInput(attrs={"class": "form-control"}),
    )


@login_required
@permission_required("lending.run_eod", raise_exception=True)
def runs(request: HttpRequest) -> HttpResponse:
    last_done = last_done_date()
    # yesterday by default; never a date before the last completed close (it would be refused)
    default = clock.today() - dt.timedelta(days=1)
    initial = {"business_date": max(default, last_done) if last_done else default}
    form = EodRunForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        inline = Loan.objects.filter(status__in=LOAN_OPEN_STATES).count() <= INLINE_MAX_LOANS
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
    page = Paginator(EodRun.objects.order_by("-business_date"), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request, "lending/eod_runs.html", {"form": form, "page": page, "last_done": last_done}
    )


@login_required
@permission_required("lending.run_eod", raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(EodRun, pk=pk)
    context = {"run": run, "chunks": run.chunks.order_by("first_loan_id")[:500]}
    if request.headers.get("HX-Request") and request.GET.get("row"):
        return render(request, "lending/eod_run_row.html", context)
    if request.headers.get("HX-Request"):
        return render(request, "lending/eod_run_status.html", context)
    return render(request, "lending/eod_run_detail.html", context)
