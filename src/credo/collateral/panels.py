"""The collateral/guarantee panel shown on the application, the approval task, the loan, the
customer 360 page and the credit report. Each renderer checks the user's permission itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse

from credo.accounts.scope import can_access
from credo.collateral import selectors

VIEW = "collateral.view_collateral"
MANAGE = "collateral.manage_collateral"


def _add_urls(**target: Any) -> dict[str, str]:
    query = urlencode({k: v for k, v in target.items() if v})
    return {
        "collateral": f"{reverse('collateral:create')}?{query}",
        "guarantee": f"{reverse('collateral:guarantee_create')}?{query}",
    }


def render_security(
    request: Any,
    security: selectors.Security,
    *,
    panel_id: str,
    amount_label: str,
    customer: Any,
    can_add: bool,
    **target: Any,
) -> str:
    user = request.user
    if not user.has_perm(VIEW):
        return ""
    return render_to_string(
        "collateral/_security_panel.html",
        {
            "security": security,
            "panel_id": panel_id,
            "amount_label": amount_label,
            "add_urls": _add_urls(**target)
            if can_add and user.has_perm(MANAGE) and can_access(customer, user)
            else None,
        },
        request=request,
    )


def application_panel(request: Any, application: Any, *, can_add: bool = True) -> str:
    from django.utils.translation import gettext as _

    return render_security(
        request,
        selectors.application_security(application),
        panel_id="application-security",
        amount_label=_("申请金额") if not application.approved_amount else _("批准金额"),
        customer=application.customer,
        can_add=can_add,
        application=application.pk,
        owner=application.customer_id,
    )


def loan_panel(request: Any, loan: Any) -> str:
    from django.utils.translation import gettext as _

    return render_security(
        request,
        selectors.loan_security(loan),
        panel_id="loan-security",
        amount_label=_("剩余本金") if loan.disbursed_at else _("贷款本金"),
        customer=loan.customer,
        can_add=loan.status not in ("paid_off", "written_off"),
        loan=loan.pk,
        owner=loan.customer_id,
    )


def customer_panel(request: Any, customer: Any) -> str:
    user = request.user
    if not user.has_perm(VIEW):
        return ""
    return render_to_string(
        "collateral/_customer_panel.html",
        {"data": selectors.customer_collateral(customer), "customer": customer},
        request=request,
    )


def customer_rows(customer: Any, user: Any) -> list[dict[str, Any]]:
    """Rows for the customer 360 page's 申请与贷款 tab: collateral owned, guarantees given."""
    if user is None or not user.has_perm(VIEW):
        return []
    from django.utils.translation import gettext as _

    data = selectors.customer_collateral(customer)
    rows = []
    for c in data["owned"]:
        rows.append(
            {
                "kind": _("押品"),
                "title": f"{c.number} {c.get_category_display()} {c.description[:40]}",
                "url": reverse("collateral:detail", args=[c.pk]),
                "amount": c.current_value.format() if c.current_value is not None else "—",
                "status": c.get_status_display(),
                "date": c.created_at,
            }
        )
    for g in data["given"]:
        rows.append(
            {
                "kind": _("对外保证"),
                "title": f"{g.contract_number} {g.get_kind_display()}",
                "url": reverse("collateral:guarantee_detail", args=[g.pk]),
                "amount": g.amount.format(),
                "status": g.get_status_display(),
                "date": g.created_at,
            }
        )
    return rows
