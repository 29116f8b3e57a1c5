"""Pages: the restructuring/recovery panel of the loan page (loaded by htmx), the request page
with its quote, a request's page (approve / reject in maker-checker mode), 登记收回."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.core.money import Money
from credo.lending import selectors
from credo.lending.errors import LendingError
from credo.lending.models import Loan, Recovery, Restructuring
from credo.lending.restructure import services
from credo.lending.restructure.forms import DecisionForm, RecoveryForm, RestructureForm
from credo.lending.services import recovery as recovery_services
from credo.lending.states import LOAN_OPEN_STATES

OPEN = (Restructuring.Status.REQUESTED, Restructuring.Status.APPROVED)


def class_label(code: str) -> str:
    return str(dict(Loan.Classification.choices).get(code, code))


def _approval_url(r: Restructuring) -> str:
    """The approval task page of a request in a flow (approvals' URL, reversed by name)."""
    from django.urls import NoReverseMatch, reverse

    instance = r.quote.get("approval_instance")
    try:
        if instance:
            return reverse("approvals:instance_detail", args=[instance])
        return reverse("approvals:inbox")
    except NoReverseMatch:
        return ""


@login_required
@permission_required("lending.view_loan", raise_exception=True)
def panel(request: HttpRequest, pk: int) -> HttpResponse:
    loan = selectors.loan_get(request.user, pk)
    user = request.user
    items = list(loan.restructurings.select_related("requested_by", "approved_by", "new_loan"))
    refinanced_from = Restructuring.objects.filter(new_loan=loan).select_related("loan").first()
    off = None
    recoveries: list[Recovery] = []
    if loan.status == Loan.Status.WRITTEN_OFF:
        off = recovery_services.off_balance_for(loan)
        recoveries = list(loan.recoveries.select_related("actor"))
    return render(
        request,
        "lending/restructure/_panel.html",
        {
            "loan": loan,
            "items": items,
            "refinanced_from": refinanced_from,
            "can_request": loan.status in LOAN_OPEN_STATES
            and user.has_perm(services.REQUEST_PERM)
            and not any(r.status in OPEN for r in items),
            "off": off,
            "recoveries": recoveries,
            "can_recover": off is not None and user.has_perm(recovery_services.PERM),
        },
    )


@login_required
@permission_required("lending.request_restructure", raise_exception=True)
def request_page(request: HttpRequest, pk: int) -> HttpResponse:
    loan = selectors.loan_get(request.user, pk)
    form = RestructureForm(request.POST or None)
    quote = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "submit":
                r = services.restructuring_request(
                    loan=loan,
                    kind=data["kind"],
                    terms=form.terms(),
                    reason=data.get("reason") or "",
                    actor=request.user,
                )
                messages.success(request, _("申请已提交，等待审批。"))
                return redirect("lending:restructure_detail", pk=loan.pk, rid=r.pk)
            plan = services.restructuring_quote(loan=loan, kind=data["kind"], terms=form.terms())
            quote = plan.as_dict(loan)
        except LendingError as exc:
            form.add_error(None, exc.message)
    return render(
        request,
        "lending/restructure/request.html",
        {"loan": loan, "form": form, "quote": quote},
    )


def _get(request: HttpRequest, pk: int, rid: int) -> tuple[Loan, Restructuring]:
    loan = selectors.loan_get(request.user, pk)
    r = get_object_or_404(Restructuring.objects.select_related("new_loan"), pk=rid, loan=loan)
    return loan, r


@login_required
@permission_required("lending.view_loan", raise_exception=True)
def detail(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    loan, r = _get(request, pk, rid)
    user = request.user
    maker_checker = r.quote.get("approval") != "flow"
    can_decide = (
        r.status == Restructuring.Status.REQUESTED
        and maker_checker
        and user.has_perm(services.APPROVE_PERM)
        and user.pk != r.requested_by_id
    )
    return render(
        request,
        "lending/restructure/detail.html",
        {
            "loan": loan,
            "r": r,
            "q": r.quote.get("executed") or r.quote,
            "class_before": class_label(r.classification_before),
            "maker_checker": maker_checker,
            "can_decide": can_decide,
            "decision_form": DecisionForm() if can_decide else None,
            "can_cancel": r.status in OPEN
            and (user.pk == r.requested_by_id or user.has_perm(services.APPROVE_PERM)),
            "approval_url": _approval_url(r) if not maker_checker else "",
        },
    )


@login_required
@require_POST
@permission_required("lending.approve_restructure", raise_exception=True)
def decide(request: HttpRequest, pk: int, rid: int, decision: str) -> HttpResponse:
    loan, r = _get(request, pk, rid)
    form = DecisionForm(request.POST)
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    try:
        if decision == "approve":
            services.restructuring_approve(restructuring=r, actor=request.user, note=note)
            messages.success(request, _("已审批通过并执行。"))
        else:
            services.restructuring_reject(restructuring=r, actor=request.user, note=note)
            messages.success(request, _("已拒绝该申请。"))
    except LendingError as exc:
        messages.error(request, exc.message)
    return redirect("lending:restructure_detail", pk=loan.pk, rid=r.pk)


@login_required
@require_POST
@permission_required("lending.view_loan", raise_exception=True)
def cancel(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    loan, r = _get(request, pk, rid)
    try:
        services.restructuring_cancel(
            restructuring=r, actor=request.user, reason=request.POST.get("reason", "")
        )
        messages.success(request, _("申请已撤销。"))
    except LendingError as exc:
        messages.error(request, exc.message)
    return redirect("lending:restructure_detail", pk=loan.pk, rid=r.pk)


@login_required
@permission_required("lending.post_repayment", raise_exception=True)
def recovery_page(request: HttpRequest, pk: int) -> HttpResponse:
    loan = selectors.loan_get(request.user, pk)
    form = RecoveryForm(request.POST or None)
    off = (
        recovery_services.off_balance_for(loan) if loan.status == Loan.Status.WRITTEN_OFF else None
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            recovery_services.recovery_post(
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
            messages.success(request, _("核销收回已入账。"))
            return redirect("lending:loan_detail", pk=loan.pk)
    return render(
        request, "lending/restructure/recovery.html", {"loan": loan, "form": form, "off": off}
    )
