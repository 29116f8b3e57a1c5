"""The loan application as the approver sees it on the approval task page: requested terms,
admission result, the application scorecard and the credit report's rules grade (and which one
routed the approval), the related-party exposure, the prior loans with their repayment record,
the collateral and the documents previewed inline (through the permission-checked, audited
document view) — see :mod:`credo.origination.approval_decision`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.context_processors import PermWrapper
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse


def render_panel(request: Any, instance: Any) -> str:
    from credo.origination import selectors, services

    user = request.user
    if not user.has_perm("origination.view_application"):
        return ""
    try:
        app = selectors.application_for_approval(user, instance.subject_id)
    except Http404:
        return ""
    # every document once: the checklist's latest ones, then the older ones by item
    documents = list(app.documents.order_by("item", "-id"))
    rows = services.checklist(app, documents)
    listed = {row["doc"].pk for row in rows if row["doc"] is not None}
    extra = [d for d in documents if d.pk not in listed]
    credit_report_url = ""
    # The credit report is scoped by customer: link it only where the approver may open it.
    if user.has_perm("customers.view_customer") and app.customer_in_scope:  # type: ignore[attr-defined]
        try:
            credit_report_url = reverse("credit_report:page", args=[app.customer_id])
        except NoReverseMatch:
            credit_report_url = ""
    # issue 21 #2: everything the decision needs on the task page itself
    from credo.origination import approval_decision as decision

    current = [row["doc"] for row in rows if row["doc"] is not None]
    for doc in current + extra:
        doc.preview = decision.preview_kind(doc.content_type)
        # the rows and the previews link it up to four times: reversed once
        doc.download_url = reverse("origination:download", args=[doc.pk])
    exposure = decision.related_exposure(app)
    loans = decision.prior_loans(app, user) if user.has_perm("lending.view_loan") else None
    decision.audit_view(
        user=user,
        app=app,
        instance=instance,
        shown={
            "group": [m.customer_id for m in exposure.members],
            "prior_loans": [x.pk for x in loans] if loans is not None else None,
        },
    )
    return render_to_string(
        "origination/_approval_panel.html",
        {
            "app": app,
            "rows": rows,
            "extra_documents": extra,
            "credit_report_url": credit_report_url,
            "exposure": exposure,
            "preview_docs": [d for d in current if d.preview],
            "prior_loans": loans,
            "loan_summary": decision.loan_summary(loans) if loans else None,
            # what the panel's templates and tags take from the request context (the collateral
            # and scorecard tags the request, the exposure card ``perms``): rendering with the
            # request would run every context processor (the navigation among them) again
            "request": request,
            "perms": PermWrapper(user),
        },
    )
