"""Records on their parent's page: a card listing the parent's records with a 新建 button per
published record type (customer 360, application and loan detail pages)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from credo.records import selectors
from credo.records.models import RecordType


def render_panel(request: Any, attached_to: str, obj: Any) -> str:
    user = request.user
    if not user.has_perm("records.view_customrecord"):
        return ""
    if not RecordType.objects.filter(attached_to=attached_to).exists():
        # no form designed for this kind of page: one cheap query, no panel (the usual case on
        # the busy 360 and loan pages until a lender designs one)
        return ""
    records = list(selectors.records_of_parent(user, **{attached_to: obj})[:50])
    fillable = (
        selectors.fillable_types(user, attached_to)
        if user.has_perm("records.add_customrecord")
        else []
    )
    if not records and not fillable:
        return ""
    return render_to_string(
        "records/_panel.html",
        {
            "records": records,
            "fillable": fillable,
            "attached_to": attached_to,
            "parent": obj,
            "perms_add": user.has_perm("records.add_customrecord"),
        },
        request=request,
    )


def loan_panel(request: Any, loan: Any) -> str:
    return render_panel(request, "loan", loan)
