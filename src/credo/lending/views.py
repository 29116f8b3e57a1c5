from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from credo.lending.forms import METHOD_CHOICES, CalculatorForm
from credo.lending.schedule import ScheduleError, generate


@login_required
def calculator(request: HttpRequest) -> HttpResponse:
    """还款计划试算: the same engine loans use, for quoting a customer."""
    form = CalculatorForm(request.GET or None)
    schedule = None
    if request.GET and form.is_valid():
        data = form.cleaned_data
        try:
            schedule = generate(
                principal=int(data["principal"] * 100),
                annual_rate=data["annual_rate"],
                months=data["months"],
                method=data["method"],
                start=data["start"],
                repayment_day=data.get("repayment_day"),
            )
        except ScheduleError as exc:
            form.add_error(None, str(exc))
    template = (
        "lending/_schedule.html"
        if request.headers.get("HX-Request")
        else ("lending/calculator.html")
    )
    return render(
        request,
        template,
        {
            "form": form,
            "schedule": schedule,
            "method_label": dict(METHOD_CHOICES).get(schedule.method, "") if schedule else "",
        },
    )
