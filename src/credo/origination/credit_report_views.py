"""Credit report page and PDF. Scoped through ``customer_get``; every view is audited as a
sensitive read (``credit_report.view`` / ``credit_report.pdf``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from credo.core.audit.services import audit_record
from credo.customers.selectors import customer_get
from credo.origination.credit_report import CreditReport, build_report


def _amount(request: HttpRequest) -> int | None:
    raw = (request.GET.get("amount_fen") or "").strip()
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10**15 else None


def _report(request: HttpRequest, customer_pk: int, action: str) -> CreditReport:
    customer = customer_get(request.user, customer_pk)
    report = build_report(customer, actor=request.user, requested_amount_fen=_amount(request))
    with transaction.atomic():
        audit_record(
            action=action,
            actor=request.user,
            obj=customer,
            metadata={
                "score": report.score,
                "grade": report.grade,
                "evaluation_id": report.evaluation_id,
                "bureau": report.bureau["status"],
            },
        )
    return report


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def credit_report_page(request: HttpRequest, customer_pk: int) -> HttpResponse:
    report = _report(request, customer_pk, "credit_report.view")
    return render(
        request, "origination/credit_report.html", {"report": report, "customer": report.customer}
    )


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def credit_report_pdf(request: HttpRequest, customer_pk: int) -> HttpResponse:
    from weasyprint import HTML

    report = _report(request, customer_pk, "credit_report.pdf")
    html = render_to_string(
        "origination/credit_report_pdf.html",
        {"report": report, "customer": report.customer},
        request=request,
    )
    pdf = HTML(string=html, base_url=None).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"credit-report-{report.customer.pk}-{report.generated_at:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
