from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.core.money import Money
from credo.core.ui.params import query_params
from credo.customers.selectors import customers_for
from credo.lending import loan_page, selectors, services
from credo.lending.errors import LendingError
from credo.lending.forms import (
    METHOD_CHOICES,
    CalculatorForm,
    DisburseForm,
    LoanCreateForm,
    RepaymentForm,
    ReverseForm,
    WriteOffForm,
)
from credo.lending.models import Loan, Posting
from credo.lending.pricing.apr import AprError
from credo.lending.pricing.caps import quote_disclosure
from credo.lending.schedule import ScheduleError, generate
from credo.lending.states import LOAN_OPEN_STATES

CUSTOMER_CHOICES = 200


@login_required
def calculator(request: HttpRequest) -> HttpResponse:
    """还款计划试算: the same engine loans use, for quoting a customer."""
    form = CalculatorForm(request.GET or None)
    schedule = None
    disclosure = None
    if request.GET and form.is_valid():
        data = form.cleaned_data
        try:
            schedule = generate(
                principal=int(data["principal"] * 100),
                annual_rate=data["annual_rate"],
                months=data["months"],
                method=data["method"],
                start=data["start"],
                repayment_day=data.get("repayment_day"),
            )
            disclosure = quote_disclosure(
                schedule,
                upfront_fee=int((data.get("upfront_fee") or 0) * 100),
                installment_fee=int((data.get("installment_fee") or 0) * 100),
                timing=data.get("upfront_fee_timing") or "disbursement",
                repayment_day=data.get("repayment_day"),
            )
        except (ScheduleError, AprError) as exc:
            form.add_error(None, str(exc))
            schedule = None
    template = (
        "lending/_schedule.html"
        if request.headers.get("HX-Request")
        else ("lending/calculator.html")
    )
    return render(
        request,
        template,
        {
            "form": form,
            "schedule": schedule,
            "apr": disclosure,
            "method_label": dict(METHOD_CHOICES).get(schedule.method, "") if schedule else "",
        },
    )


# ---------------------------------------------------------------- loans


@login_required
@permission_required("lending.view_loan", raise_exception=True)
def loan_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.loan_list(request.user, request.GET)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "lending/loan_list.html",
        {
            "page": page,
            "params": query_params(request),
            "statuses": Loan.Status.choices,
            "classifications": Loan.Classification.choices,
        },
    )


STATUS_BADGE: dict[str, str] = {
    Loan.Status.PENDING: "bg-secondary-lt",
    Loan.Status.ACTIVE: "bg-green-lt",
    Loan.Status.OVERDUE: "bg-red-lt",
    Loan.Status.PAID_OFF: "bg-blue-lt",
    Loan.Status.WRITTEN_OFF: "bg-dark-lt",
}


@login_required
@permission_required("lending.view_loan", raise_exception=True)
def loan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Each thing is read once and handed on: the postings give the events their ids, the
    # application read here (``origin``) is the one the collateral panel links through.
    loan = selectors.loan_get(request.user, pk, related=selectors.LOAN_PAGE_RELATED)
    installments, first_installment = loan_page.installment_rows(loan)
    postings = list(selectors.loan_postings(loan))
    posting_ids = [p.pk for p in postings]
    has_entries, journal = loan_page.journal(loan)
    user = request.user
    can_disburse = loan.status == Loan.Status.PENDING and user.has_perm("lending.disburse_loan")
    return render(
        request,
        "lending/loan_detail.html",
        {
            "loan": loan,
            "badge": STATUS_BADGE.get(loan.status, "bg-secondary-lt"),
            "installments": installments,
            "first_installment": first_installment,
            "postings": loan_page.posting_rows(postings),
            # the creator read only when there are charges (most loans have none)
            "charges": list(loan.charges.prefetch_related("created_by")),
            "entries": has_entries,
            "journal": journal,
            "events": list(selectors.loan_events(loan, posting_ids)[:100]),
            "origin": selectors.loan_origin(loan),
            "disburse_form": DisburseForm() if can_disburse else None,
            "value_date_window": services.value_date_window(loan, user) if can_disburse else None,
            "can_post": loan.status in LOAN_OPEN_STATES and user.has_perm("lending.post_repayment"),
            "can_reverse": user.has_perm("lending.reverse_posting"),
            "write_off_form": WriteOffForm(initial={"version": loan.version})
            if loan.status in LOAN_OPEN_STATES
            and loan.classification in services.WRITE_OFF_CLASSES
            and user.has_perm("lending.write_off_loan")
            else None,
            "write_off": selectors.loan_write_off(loan, posting_ids)
            if loan.status == Loan.Status.WRITTEN_OFF
            else None,
        },
    )


@login_required
@require_POST
@permission_required("lending.disburse_loan", raise_exception=True)
def loan_disburse(request: HttpRequest, pk: int) -> HttpResponse:
    loan = selectors.loan_get(request.user, pk)
    form = DisburseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写有效的放款日期。"))
    else:
        try:
            services.loan_disburse(
                loan=loan, actor=request.user, value_date=form.cleaned_data["value_date"]
            )
        except LendingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已确认放款。"))
    return redirect("lending:loan_detail", pk=loan.pk)


@login_required
@require_POST
@permission_required("lending.write_off_loan", raise_exception=True)
def loan_write_off(request: HttpRequest, pk: int) -> HttpResponse:
    loan = selectors.loan_get(request.user, pk)
    form = WriteOffForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写核销原因。"))
    else:
        try:
            services.loan_write_off(
                loan=loan,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except LendingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("贷款已核销。"))
    return redirect("lending:loan_detail", pk=loan.pk)


@login_required
@permission_required("lending.post_repayment", raise_exception=True)
def post_repayment(request: HttpRequest, pk: int) -> HttpResponse:
    loan = selectors.loan_get(request.user, pk)
    form = RepaymentForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.repayment_post(
                loan=loan,
                amount=Money(data["amount"]),
                received_on=data["received_on"],
                actor=request.user,
                reference=data.get("reference") or "",
                idempotency_key=data["idempotency_key"],
            )
        except LendingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("还款已入账。"))
            return redirect("lending:loan_detail", pk=loan.pk)
    if form.is_bound and form.is_valid():
        preview = services.allocation_preview(
            loan, Money(form.cleaned_data["amount"]).fen, form.cleaned_data["received_on"]
        )
    return render(
        request,
        "lending/post_repayment.html",
        {"loan": loan, "form": form, "preview": preview},
    )


@login_required
@permission_required("lending.post_repayment", raise_exception=True)
def repayment_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: how the amount in the form would be allocated on the given date."""
    loan = selectors.loan_get(request.user, pk)
    preview = None
    error = ""
    if not (request.GET.get("amount") and request.GET.get("received_on")):
        return render(request, "lending/_allocation_preview.html", {"preview": None})
    try:
        amount = Money(request.GET.get("amount") or "")
        on_date = dt.date.fromisoformat(request.GET.get("received_on") or "")
    except (ValueError, TypeError, ArithmeticError):
        error = _("请输入有效的金额和到账日期。")
    else:
        if amount.fen <= 0:
            error = _("还款金额必须大于 0。")
        else:
            preview = services.allocation_preview(loan, amount.fen, on_date)
    return render(request, "lending/_allocation_preview.html", {"preview": preview, "error": error})


@login_required
@require_POST
@permission_required("lending.reverse_posting", raise_exception=True)
def posting_reverse(request: HttpRequest, pk: int, posting_pk: int) -> HttpResponse:
    loan = selectors.loan_get(request.user, pk)
    posting = get_object_or_404(Posting, pk=posting_pk, loan=loan)
    form = ReverseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写冲正原因。"))
    else:
        try:
            services.posting_reverse(
                posting=posting, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except LendingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已冲正该笔还款。"))
    return redirect("lending:loan_detail", pk=loan.pk)


@login_required
def loan_create(request: HttpRequest) -> HttpResponse:
    """新建贷款 outside origination: needs ``lending.create_loan_directly`` (refusal audited)."""
    try:
        services.require_direct_create(request.user)
    except LendingError as exc:
        raise PermissionDenied(exc.message) from None
    customers = customers_for(request.user).order_by("name")
    preselect = request.GET.get("customer")
    if preselect and preselect.isdecimal():
        limited = customers.filter(pk=int(preselect)) | customers.filter(
            pk__in=list(customers.values_list("pk", flat=True)[:CUSTOMER_CHOICES])
        )
    else:
        limited = customers.filter(
            pk__in=list(customers.values_list("pk", flat=True)[:CUSTOMER_CHOICES])
        )
    form = LoanCreateForm(
        request.POST or None,
        customers=customers if request.method == "POST" else limited.order_by("name"),
        versions=selectors.published_versions(),
        initial={"customer": preselect} if preselect else None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            loan = services.loan_create_direct(
                customer=data["customer"],
                product_version=data["product_version"],
                principal=Money(data["principal"]),
                annual_rate=data["annual_rate"],
                months=data["months"],
                repayment_day=data.get("repayment_day"),
                actor=request.user,
            )
        except LendingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("贷款已直接新建（未经申请审批），待财务确认放款。"))
            return redirect("lending:loan_detail", pk=loan.pk)
    return render(request, "lending/loan_form.html", {"form": form})
