"""Pages of the privacy officer: the request register, a request, consents, the inventory and
the retention runs. Thin: parse, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.core import clock
from credo.customers.models import Customer
from credo.leads.models import Lead
from credo.notify.models import MarketingConsent
from credo.privacy import inventory as inv
from credo.privacy import selectors, services
from credo.privacy.errors import PrivacyError
from credo.privacy.forms import ConsentForm, HoldForm, OutcomeForm, RejectForm, RequestForm
from credo.privacy.models import DataSubjectRequest, LegalHold, RetentionRun

HANDLE = "privacy.handle_requests"


def _officer(view: Any) -> Any:
    return login_required(permission_required(HANDLE, raise_exception=True)(view))


@_officer
def request_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    qs = selectors.requests_list(status=status, kind=kind)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    today = clock.today()
    rows = [(r, selectors.is_overdue(r, today)) for r in page.object_list]
    return render(
        request,
        "privacy/request_list.html",
        {
            "page": page,
            "rows": rows,
            "statuses": DataSubjectRequest.Status.choices,
            "kinds": DataSubjectRequest.Kind.choices,
            "params": {"status": status, "kind": kind},
        },
    )


@_officer
def request_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = RequestForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                req = services.request_create(
                    actor=request.user,
                    kind=data["kind"],
                    customer=data.get("customer_obj"),
                    lead=data.get("lead_obj"),
                    received_on=data["received_on"],
                    detail=data["detail"],
                )
            except PrivacyError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("请求已登记，答复期限 %(d)s。") % {"d": req.due_on})
                return redirect("privacy:request_detail", req.pk)
    else:
        form = RequestForm(
            initial={
                "received_on": clock.today(),
                "customer": request.GET.get("customer") or None,
                "lead": request.GET.get("lead") or None,
                "kind": request.GET.get("kind") or DataSubjectRequest.Kind.ACCESS,
            }
        )
    return render(request, "privacy/request_form.html", {"form": form})


@_officer
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(
        DataSubjectRequest.objects.select_related("customer", "lead", "handled_by"), pk=pk
    )
    open_ = req.status in (DataSubjectRequest.Status.RECEIVED, DataSubjectRequest.Status.HELD)
    basis = None
    if req.kind == DataSubjectRequest.Kind.DELETION and open_:
        basis = selectors.retention_basis(customer=req.customer, lead=req.lead)
    consents = selectors.consents_of(customer=req.customer, lead=req.lead)
    return render(
        request,
        "privacy/request_detail.html",
        {
            "req": req,
            "open": open_,
            "overdue": selectors.is_overdue(req),
            "basis": basis,
            "consents": consents,
            "outcome_form": OutcomeForm(),
            "reject_form": RejectForm(),
            "holds": selectors.holds_of(customer=req.customer, lead=req.lead),
            "hold_form": HoldForm(initial={"customer": req.customer_id, "lead": req.lead_id}),
            "consent_form": ConsentForm(initial={"customer": req.customer_id, "lead": req.lead_id}),
        },
    )


@_officer
def request_export(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(DataSubjectRequest, pk=pk)
    try:
        payload = services.request_export(actor=request.user, request=req)
    except PrivacyError as exc:
        messages.error(request, exc.message)
        return redirect("privacy:request_detail", pk)
    response = HttpResponse(payload, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="personal-data-{req.pk}.zip"'
    return response


@require_POST
@_officer
def request_execute(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(DataSubjectRequest, pk=pk)
    try:
        req = services.request_execute_deletion(actor=request.user, request=req)
    except PrivacyError as exc:
        messages.error(request, exc.message)
    else:
        if req.status == DataSubjectRequest.Status.HELD:
            messages.warning(
                request, _("存在法定保留依据，已记录并暂缓删除：%(r)s") % {"r": req.reason}
            )
        else:
            messages.success(request, _("已删除（匿名化）该主体的个人信息。"))
    return redirect("privacy:request_detail", pk)


@require_POST
@_officer
def request_reject(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(DataSubjectRequest, pk=pk)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.request_reject(
                actor=request.user, request=req, reason=form.cleaned_data["reason"]
            )
        except PrivacyError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("请填写拒绝理由。"))
    return redirect("privacy:request_detail", pk)


@require_POST
@_officer
def request_complete(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(DataSubjectRequest, pk=pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            services.request_complete(
                actor=request.user, request=req, outcome=form.cleaned_data["outcome"]
            )
        except PrivacyError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("请求已办结。"))
    else:
        messages.error(request, _("请填写处理结果。"))
    return redirect("privacy:request_detail", pk)


def _back(request: HttpRequest) -> HttpResponse:
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect("privacy:request_list")


@require_POST
@login_required
def consent_record(request: HttpRequest) -> HttpResponse:
    form = ConsentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        customer = (
            Customer.objects.filter(pk=data["customer"]).first() if data["customer"] else None
        )
        lead = Lead.objects.filter(pk=data["lead"]).first() if data["lead"] else None
        try:
            services.consent_record(
                actor=request.user,
                customer=customer,
                lead=lead,
                channel=data["channel"],
                source=data["source"],
                note=data["note"],
            )
        except PrivacyError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已登记营销联系同意。"))
    else:
        messages.error(request, _("请完整填写同意信息。"))
    return _back(request)


@require_POST
@login_required
def consent_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    consent = get_object_or_404(MarketingConsent, pk=pk)
    try:
        services.consent_withdraw(actor=request.user, consent=consent)
    except PrivacyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤回营销联系同意，营销与续贷消息将不再发送。"))
    return _back(request)


@require_POST
@login_required
def hold_place(request: HttpRequest) -> HttpResponse:
    form = HoldForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        customer = (
            Customer.objects.filter(pk=data["customer"]).first() if data["customer"] else None
        )
        lead = Lead.objects.filter(pk=data["lead"]).first() if data["lead"] else None
        try:
            services.legal_hold_place(
                actor=request.user, customer=customer, lead=lead, reason=data["reason"]
            )
        except PrivacyError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已设立法律保全：相关个人信息暂停删除。"))
    else:
        messages.error(request, _("请填写保全事由。"))
    return _back(request)


@require_POST
@login_required
def hold_release(request: HttpRequest, pk: int) -> HttpResponse:
    hold = get_object_or_404(LegalHold, pk=pk)
    try:
        services.legal_hold_release(actor=request.user, hold=hold)
    except PrivacyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已解除法律保全。"))
    return _back(request)


@login_required
@permission_required("privacy.view_inventory", raise_exception=True)
def inventory(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/inventory.html", {"rows": inv.inventory()})


@login_required
@permission_required("privacy.view_retentionrun", raise_exception=True)
def retention(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            services.retention_run(actor=request.user)
        except PrivacyError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("保留策略已执行。"))
        return redirect("privacy:retention")
    from credo.privacy.retention import period_days, policies

    runs = RetentionRun.objects.all()[:30]
    return render(
        request,
        "privacy/retention.html",
        {
            "runs": runs,
            "policies": [(p, period_days(p)) for p in policies],
        },
    )
