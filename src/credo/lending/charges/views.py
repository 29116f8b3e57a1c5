"""收费 pages: charge a fee on a loan, reverse a charge (thin: parse, one service, render)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.core import clock
from credo.core.money import Money
from credo.lending import selectors
from credo.lending.charges import services
from credo.lending.charges.forms import ChargeForm
from credo.lending.errors import LendingError
from credo.lending.models import LoanCharge


@login_required
@permission_required(services.PERMISSION, raise_exception=True)
def charge_page(request: HttpRequest, pk: int) -> HttpResponse:
    loan = selectors.loan_get(request.user, pk)
    if request.method == "POST":
        form = ChargeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            key = data["idempotency_key"]
            try:
                services.charge_create(
                    loan=loan,
                    kind=data["kind"],
                    amount=Money(data["amount"]),
                    charged_on=data["charged_on"],
                    memo=data["memo"],
                    actor=request.user,
                    idempotency_key=f"ui-charge:{key}" if key else None,
                )
            except LendingError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("收费已登记。"))
                return redirect("lending:loan_detail", pk=loan.pk)
    else:
        form = ChargeForm(
            initial={
                "charged_on": clock.today(),
                "kind": LoanCharge.Kind.HANDLING,
                "idempotency_key": uuid.uuid4().hex,
            }
        )
    return render(request, "lending/charges/charge.html", {"loan": loan, "form": form})


@login_required
@require_POST
@permission_required(services.PERMISSION, raise_exception=True)
def charge_reverse(request: HttpRequest, pk: int, charge_pk: int) -> HttpResponse:
    loan = selectors.loan_get(request.user, pk)
    charge = get_object_or_404(LoanCharge, pk=charge_pk, loan=loan)
    try:
        services.charge_reverse(
            charge=charge, actor=request.user, reason=request.POST.get("reason", "")
        )
    except LendingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("收费已冲销。"))
    return redirect("lending:loan_detail", pk=loan.pk)
