"""Field work on the customer's 360 page (申请与贷款 tab): the customer's inspections."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from credo.customers.selectors import register_business_provider


def customer_inspections(customer: Any, user: Any) -> list[dict[str, Any]]:
    if user is None or not user.has_perm("fieldwork.view_inspection"):
        return []
    from credo.fieldwork.models import Inspection
    from credo.fieldwork.selectors import inspection_visible_q

    rows = (
        Inspection.objects.filter(inspection_visible_q(user), customer=customer)
        .select_related("loan")
        # the row's columns only: not the whole inspection (answers, notes, GPS) and loan
        .only("id", "kind", "status", "result", "completed_on", "due_date", "loan__number")
        .order_by("-due_date", "-id")
    )
    return [
        {
            "kind": _("贷后检查"),
            "title": f"{i.get_kind_display()} · {i.loan.number}",
            "url": reverse("fieldwork:inspection_detail", args=[i.pk]),
            "amount": "",
            "status": i.get_result_display() if i.result else i.get_status_display(),
            "date": i.completed_on or i.due_date,
        }
        for i in rows[:20]
    ]


register_business_provider(customer_inspections)
