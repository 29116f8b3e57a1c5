"""Key figures of a customer's loans for the customer 360 page (registered in apps.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext

from credo.core.money import Money
from credo.lending.ledger import fen
from credo.lending.models import Installment, Loan


def customer_figures(customer: Any) -> dict[str, Any]:
    from credo.lending.limits import limit_status

    result: dict[str, Any] = {}
    status = limit_status(customer)
    if status is not None:
        result["limit"] = Money.from_fen(status.available).format() + (
            gettext("（已冻结）") if status.frozen else ""
        )
    loans = Loan.objects.filter(customer=customer).exclude(status=Loan.Status.PENDING)
    agg = loans.aggregate(
        n=Count("id"), total=Sum("principal"), outstanding=Sum("outstanding_principal")
    )
    if not agg["n"]:  # one query for "any loan?" and the sums
        return result
    overdue = Installment.objects.filter(
        loan__customer=customer, status=Installment.Status.OVERDUE
    ).owed_total()
    return {
        **result,
        "total_credit": Money.from_fen(fen(agg["total"])).format(),
        "outstanding": Money.from_fen(fen(agg["outstanding"])).format(),
        "overdue": Money.from_fen(overdue).format(),
    }


def customer_loans(customer: Any, user: Any) -> list[dict[str, Any]]:
    """The customer's loans for the 360 page (only if the user may view loans)."""
    from django.urls import NoReverseMatch, reverse

    if not user.has_perm("lending.view_loan"):
        return []
    rows = []
    shown = ("id", "number", "principal", "status", "start_date", "created_at")
    for loan in Loan.objects.filter(customer=customer).only(*shown).order_by("-id")[:50]:
        try:
            url = reverse("lending:loan_detail", args=[loan.pk])
        except NoReverseMatch:
            url = ""
        rows.append(
            {
                "kind": gettext("贷款"),
                "title": loan.number,
                "url": url,
                "amount": loan.principal.format(),
                "status": loan.get_status_display(),
                "date": loan.start_date or loan.created_at,
            }
        )
    return rows
