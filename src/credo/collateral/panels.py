"""The collateral/guarantee panel shown on the application, the approval task, the loan, the
customer 360 page and the credit report. Each renderer checks the user's permission itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse

from credo.accounts.scope import can_access, scope_q
from credo.collateral import selectors

VIEW = "collateral.view_collateral"
MANAGE = "collateral.manage_collateral"


def _add_urls(**target: Any) -> dict[str, str]:
    query = urlencode({k: v for k, v in target.items() if v})
    return {
        "collateral": f"{reverse('collateral:create')}?{query}",
        "guarantee": f"{reverse('collateral:guarantee_create')}?{query}",
    }


def in_scope(obj: Any, user: Any) -> bool:
    """:func:`credo.accounts.scope.can_access` of a row the page has read already: a scope that
    is one condition on one of the row's own foreign keys (owner, team or branch — what every
    data scope is today) is checked against the loaded row, anything else with the query."""
    q = scope_q(user)
    if q is None:
        return False
    if not q:
        return True
    if len(q.children) == 1 and not q.negated and isinstance(q.children[0], tuple):
        name, value = q.children[0]
        field = next((f for f in obj._meta.concrete_fields if f.name == name), None)
        if field is not None and field.is_relation and field.attname in obj.__dict__:
            wanted = getattr(value, "pk", value)
            return wanted is not None and getattr(obj, field.attname) == wanted
    return can_access(obj, user)


def _render(template: str, context: dict[str, Any]) -> str:
    # the panels use no context processor (no request, user, perms, csrf or nav): rendering
    # them with the request ran all five (the navigation among them) once more per panel
    return render_to_string(template, context)


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
    return _render(
        "collateral/_security_panel.html",
        {
            "security": security,
            "panel_id": panel_id,
            "amount_label": amount_label,
            "add_urls": _add_urls(**target)
            if can_add and user.has_perm(MANAGE) and in_scope(customer, user)
            else None,
        },
    )


def application_panel(request: Any, application: Any, *, can_add: bool = True) -> str:
    from django.utils.translation import gettext as _

    if not request.user.has_perm(VIEW):  # before reading the security nobody will see
        return ""
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

    if not request.user.has_perm(VIEW):  # before reading the security nobody will see
        return ""
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
    return _render(
        "collateral/_customer_panel.html",
        {"data": selectors.customer_collateral(customer), "customer": customer},
    )


def customer_rows(customer: Any, user: Any) -> list[dict[str, Any]]:
    """Rows for the customer 360 page's 申请与贷款 tab: collateral owned, guarantees given."""
    if user is None or not user.has_perm(VIEW):
        return []
    from django.utils.translation import gettext as _

    data = selectors.customer_owned_and_given(customer)
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
