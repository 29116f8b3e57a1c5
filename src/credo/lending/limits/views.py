"""授信额度 page: set / adjust, freeze / unfreeze a customer's credit limit (with a reason)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from credo.core.forms import IsoDateInput, StyledFormMixin
from credo.core.money import Money
from credo.customers.selectors import customer_get
from credo.lending import limits
from credo.lending.errors import LendingError
from credo.lending.models import CreditLimit

PERM = "lending.manage_limits"


class LimitForm(StyledFormMixin, forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("授信额度（元）"),
        min_value=Decimal("0"),
        max_digits=15,
        decimal_places=2,
    )
    valid_until = forms.DateField(
        label=gettext_lazy("有效期至"),
        required=False,
        widget=IsoDateInput(),
    )
    reason = forms.CharField(label=gettext_lazy("调整原因"), max_length=200)


class FreezeForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=200)


@login_required
@permission_required(PERM, raise_exception=True)
def credit_limit(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = customer_get(request.user, customer_pk)
    limit = CreditLimit.objects.filter(customer=customer).first()
    form = LimitForm(
        request.POST or None,
        initial={
            "amount": limit.amount.yuan if limit else None,
            "valid_until": limit.valid_until if limit else None,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            limits.limit_set(
                customer=customer,
                amount=Money(form.cleaned_data["amount"]),
                actor=request.user,
                reason=form.cleaned_data["reason"],
                valid_until=form.cleaned_data["valid_until"],
            )
        except LendingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("授信额度已保存。"))
            return redirect("lending:credit_limit", customer_pk=customer.pk)
    status = limits.limit_status(customer)
    return render(
        request,
        "lending/credit_limit.html",
        {
            "customer": customer,
            "limit": limit,
            "status": status,
            "form": form,
            "freeze_form": FreezeForm(),
        },
    )


@login_required
@permission_required(PERM, raise_exception=True)
@require_POST
def credit_limit_freeze(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = customer_get(request.user, customer_pk)
    form = FreezeForm(request.POST)
    frozen = request.POST.get("action") == "freeze"
    if not form.is_valid():
        messages.error(request, _("请填写原因。"))
    else:
        try:
            limits.limit_freeze(
                customer=customer,
                frozen=frozen,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except LendingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已冻结授信额度。") if frozen else _("已解冻授信额度。"))
    return redirect("lending:credit_limit", customer_pk=customer.pk)
