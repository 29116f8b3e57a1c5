"""提前还款 page: quote (payoff amount, both rescheduling options) and execute a prepayment."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core import clock
from credo.core.forms import IsoDateInput, StyledFormMixin
from credo.core.money import Money
from credo.lending import selectors
from credo.lending.errors import LendingError
from credo.lending.prepay import MODE_LABELS, MODES, prepay, prepayment_quote


class PrepayForm(StyledFormMixin, forms.Form):
    on_date = forms.DateField(
        label=gettext_lazy("还款日期"),
        widget=IsoDateInput(),
    )
    amount = forms.DecimalField(
        label=gettext_lazy("提前还款金额（元，留空=全部结清）"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=15,
        decimal_places=2,
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("剩余本金的处理"), choices=[(m, MODE_LABELS[m]) for m in MODES]
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)


@login_required
@permission_required("lending.post_repayment", raise_exception=True)
def prepay_page(request: HttpRequest, pk: int) -> HttpResponse:
    loan = selectors.loan_get(request.user, pk)
    data: Any = request.POST if request.method == "POST" else (request.GET or None)
    form = PrepayForm(
        data,
        initial={
            "on_date": clock.today(),
            "idempotency_key": uuid.uuid4().hex,
            "mode": MODES[0],
        },
    )
    quote = None
    if data is not None and form.is_valid():
        on_date: dt.date = form.cleaned_data["on_date"]
        amount = form.cleaned_data["amount"]
        try:
            quote = prepayment_quote(loan=loan, on_date=on_date, amount=amount)
            if request.method == "POST":
                fen = (
                    Money(amount).fen
                    if amount is not None
                    else Money(Decimal(quote["payoff_amount"])).fen
                )
                prepay(
                    loan=loan,
                    amount=Money.from_fen(fen),
                    on_date=on_date,
                    mode=form.cleaned_data["mode"],
                    actor=request.user,
                    idempotency_key=f"ui-prepay:{form.cleaned_data['idempotency_key']}"
                    if form.cleaned_data["idempotency_key"]
                    else None,
                )
                messages.success(request, _("提前还款已入账。"))
                return redirect("lending:loan_detail", pk=loan.pk)
        except LendingError as exc:
            form.add_error(None, exc.message)
    if request.method == "GET" or not form.is_bound:
        form.initial["idempotency_key"] = uuid.uuid4().hex
    return render(request, "lending/prepay.html", {"loan": loan, "form": form, "quote": quote})
