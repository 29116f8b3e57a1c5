"""Staff pages for applications: thin — parse, call one service, render/redirect."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.core.ui.params import query_params
from credo.customers.selectors import customers_for
from credo.lending.selectors import published_versions
from credo.origination import documents, selectors, services
from credo.origination.errors import OriginationError
from credo.origination.forms import (
    AnswerForm,
    ApplicationForm,
    PortalLinkForm,
    ReasonForm,
    ReviewForm,
    UploadForm,
)
from credo.origination.models import Application, Document, PortalLink

STATUS_BADGE: dict[str, str] = {
    "draft": "bg-secondary-lt",
    "submitted": "bg-blue-lt",
    "admission_rejected": "bg-red-lt",
    "in_approval": "bg-azure-lt",
    "returned": "bg-orange-lt",
    "approved": "bg-green-lt",
    "contract_sent": "bg-teal-lt",
    "signed": "bg-green-lt",
    "loan_created": "bg-green",
    "rejected": "bg-red-lt",
    "withdrawn": "bg-dark-lt",
}
DOC_BADGE = {
    "missing": "bg-secondary-lt",
    "pending": "bg-yellow-lt",
    "accepted": "bg-green-lt",
    "rejected": "bg-red-lt",
}


def _has_template(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


@login_required
@permission_required("origination.view_application", raise_exception=True)
def application_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.application_list(request.user, request.GET)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    for app in page.object_list:
        app.badge = STATUS_BADGE.get(app.status, "")  # type: ignore[attr-defined]
    return render(
        request,
        "origination/application_list.html",
        {"page": page, "params": query_params(request), "statuses": Application.Status.choices},
    )


@login_required
@permission_required("origination.add_application", raise_exception=True)
def application_create(request: HttpRequest) -> HttpResponse:
    customers = customers_for(request.user).order_by("name")
    initial: dict[str, Any] = {}
    customer_pk = request.GET.get("customer")
    if customer_pk and str(customer_pk).isdigit():
        initial["customer"] = customers.filter(pk=int(customer_pk)).first()
    lead = request.GET.get("lead")
    form = ApplicationForm(
        request.POST or None,
        initial=initial,
        customers=customers,
        versions=published_versions(),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        lead_id = request.POST.get("lead") or lead
        try:
            app = services.application_create(
                customer=data["customer"],
                product_version=data["product_version"],
                amount=Money(data["amount"]),
                months=data["months"],
                annual_rate=data.get("annual_rate"),
                purpose=data["purpose"],
                guarantees=form.guarantees(),
                lead_id=int(lead_id) if lead_id and str(lead_id).isdigit() else None,
                actor=request.user,
            )
        except OriginationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已创建申请 %(n)s。") % {"n": app.number})
            return redirect("origination:detail", pk=app.pk)
    return render(request, "origination/application_form.html", {"form": form, "lead": lead})


def _approval_context(app: Application) -> dict[str, Any]:
    from credo.approvals.selectors import instance_for
    from credo.contracts.selectors import contract_for

    ctx: dict[str, Any] = {"approval": instance_for(app), "contract": contract_for(app)}
    ctx["approval_ui"] = ctx["approval"] is not None and _has_template("approvals/_trail.html")
    ctx["contract_ui"] = ctx["contract"] is not None and _has_template(
        "contracts/_contract_card.html"
    )
    try:
        ctx["credit_report_url"] = reverse("credit_report:page", args=[app.customer_id])
    except NoReverseMatch:
        ctx["credit_report_url"] = ""
    return ctx


@login_required
@permission_required("origination.view_application", raise_exception=True)
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    app = selectors.application_get(request.user, pk)
    rows = services.checklist(app)
    for row in rows:
        row["badge"] = DOC_BADGE.get(row["state"], "")
    user = request.user
    editable = app.status in services.EDITABLE_DOCS
    return render(
        request,
        "origination/application_detail.html",
        {
            "app": app,
            "badge": STATUS_BADGE.get(app.status, ""),
            "rows": rows,
            "progress": services.completeness(app),
            "outstanding": services.outstanding_items(app),
            "notice": selectors.open_notice(app),
            "history": app.documents.select_related("uploaded_by", "reviewed_by").order_by("-id")[
                :50
            ],
            "events": selectors.application_events(app)[:50],
            "links": app.portal_links.order_by("-id")[:5],
            "upload_form": UploadForm(items=services.checklist_items(app))
            if editable and user.has_perm("origination.change_application")
            else None,
            "can_review": user.has_perm("origination.review_documents"),
            "can_notice": editable
            and user.has_perm("origination.review_documents")
            and bool(services.outstanding_items(app)),
            "can_submit": app.status == "draft" and user.has_perm("origination.submit_application"),
            "can_withdraw": app.status in services.WITHDRAWABLE
            and user.has_perm("origination.change_application"),
            "can_link": editable and user.has_perm("origination.manage_portal_links"),
            "answer_form": AnswerForm()
            if app.status == "returned" and user.has_perm("origination.change_application")
            else None,
            "link_form": PortalLinkForm(),
            **_approval_context(app),
        },
    )


def _done(request: HttpRequest, app: Application, ok: str, fn: Any, **kw: Any) -> HttpResponse:
    try:
        fn(**kw)
    except OriginationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ok)
    return redirect("origination:detail", pk=app.pk)


@login_required
@require_POST
@permission_required("origination.submit_application", raise_exception=True)
def application_submit(request: HttpRequest, pk: int) -> HttpResponse:
    app = selectors.application_get(request.user, pk)
    version = request.POST.get("version")
    try:
        app = services.application_submit(
            application=app,
            actor=request.user,
            expected_version=int(version) if version and version.isdigit() else None,
        )
    except OriginationError as exc:
        messages.error(request, exc.message)
    else:
        if app.status == "admission_rejected":
            messages.error(request, _("准入未通过，申请已自动拒绝。"))
        else:
            messages.success(request, _("申请已提交：%(s)s。") % {"s": app.get_status_display()})
    return redirect("origination:detail", pk=app.pk)


@login_required
@require_POST
@permission_required("origination.change_application", raise_exception=True)
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    app = selectors.application_get(request.user, pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    return _done(
        request,
        app,
        _("申请已撤回。"),
        services.application_withdraw,
        application=app,
        actor=request.user,
        reason=reason,
    )


@login_required
@require_POST
@permission_required("origination.change_application", raise_exception=True)
def application_create_loan(request: HttpRequest, pk: int) -> HttpResponse:
    app = selectors.application_get(request.user, pk)
    return _done(
        request,
        app,
        _("已生成贷款，等待财务放款。"),
        services.application_create_loan,
        application=app,
        actor=request.user,
    )


@login_required
@require_POST
@permission_required("origination.change_application", raise_exception=True)
def application_contract_resend(request: HttpRequest, pk: int) -> HttpResponse:
    app = selectors.application_get(request.user, pk)
    return _done(
        request,
        app,
        _("已重新生成合同并发送签署。"),
        services.application_contract_resend,
        application=app,
        actor=request.user,
    )


@login_required
@require_POST
@permission_required("origination.change_application", raise_exception=True)
def application_answer(request: HttpRequest, pk: int) -> HttpResponse:
    app = selectors.application_get(request.user, pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写补充说明。"))
        return redirect("origination:detail", pk=app.pk)
    return _done(
        request,
        app,
        _("已提交补充说明，申请重新进入审批。"),
        services.application_answer,
        application=app,
        actor=request.user,
        answer=form.cleaned_data["answer"],
    )


@login_required
@require_POST
@permission_required("origination.change_application", raise_exception=True)
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    app = selectors.application_get(request.user, pk)
    form = UploadForm(request.POST, request.FILES, items=services.checklist_items(app))
    if not form.is_valid():
        messages.error(request, _("请选择资料项和文件。"))
        return redirect("origination:detail", pk=app.pk)
    upload = form.cleaned_data["file"]
    item = form.cleaned_data["item"]
    data = documents.read_upload(upload, documents.rule_for(item).max_bytes)
    return _done(
        request,
        app,
        _("资料“%(item)s”已上传。") % {"item": item},
        services.document_upload,
        application=app,
        item=item,
        name=upload.name,
        data=data,
        actor=request.user,
    )


@login_required
@require_POST
@permission_required("origination.review_documents", raise_exception=True)
def document_review(request: HttpRequest, pk: int, doc_pk: int) -> HttpResponse:
    app = selectors.application_get(request.user, pk)
    doc = app.documents.filter(pk=doc_pk).first()
    if doc is None:
        raise Http404
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择审核结果。"))
        return redirect("origination:detail", pk=app.pk)
    accept = form.cleaned_data["decision"] == "accept"
    return _done(
        request,
        app,
        _("资料已审核通过。") if accept else _("资料已退回，并向客户发出补正通知。"),
        services.document_review,
        document=doc,
        accept=accept,
        reason=form.cleaned_data.get("reason", ""),
        actor=request.user,
    )


@login_required
@require_POST
@permission_required("origination.review_documents", raise_exception=True)
def notice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    app = selectors.application_get(request.user, pk)
    form = ReasonForm(request.POST)
    note = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    return _done(
        request,
        app,
        _("已发出补正通知。"),
        services.notice_issue,
        application=app,
        actor=request.user,
        note=note,
    )


@login_required
@permission_required("origination.view_application", raise_exception=True)
def document_download(request: HttpRequest, doc_pk: int) -> HttpResponseBase:
    doc: Document = selectors.document_get(request.user, doc_pk)
    path = documents.path_of(doc.stored_name)
    if not path.exists():
        raise Http404
    with transaction.atomic():
        audit_record(
            action="document.download",
            actor=request.user,
            obj=doc,
            metadata={"application": doc.application.number, "item": doc.item},
        )
    response = FileResponse(
        path.open("rb"),
        content_type=doc.content_type,
        as_attachment=request.GET.get("inline") != "1",
        filename=doc.original_name or doc.stored_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    if request.GET.get("inline") == "1" and doc.content_type == "application/pdf":
        # previewed inside the approval task page (an <iframe>): this origin only
        response["X-Frame-Options"] = "SAMEORIGIN"
        response._csp_replace = {"frame-ancestors": ["'self'"]}  # type: ignore[attr-defined]
    return response


@login_required
@require_POST
@permission_required("origination.manage_portal_links", raise_exception=True)
def portal_link_create(request: HttpRequest, pk: int) -> HttpResponse:
    app = selectors.application_get(request.user, pk)
    form = PortalLinkForm(request.POST)
    days = form.cleaned_data["days"] if form.is_valid() else services.PORTAL_DAYS
    try:
        link, token = services.portal_link_create(application=app, actor=request.user, days=days)
    except OriginationError as exc:
        messages.error(request, exc.message)
        return redirect("origination:detail", pk=app.pk)
    url = request.build_absolute_uri(reverse("portal:page", args=[token]))
    # Shown once, rendered directly (never stored, never in a redirect or the session).
    response = render(
        request, "origination/portal_link_created.html", {"app": app, "link": link, "url": url}
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
@permission_required("origination.manage_portal_links", raise_exception=True)
def portal_link_revoke(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    app = selectors.application_get(request.user, pk)
    link = PortalLink.objects.filter(pk=link_pk, application=app).first()
    if link is None:
        raise Http404
    return _done(
        request, app, _("链接已撤销。"), services.portal_link_revoke, link=link, actor=request.user
    )


@login_required
@require_POST
@permission_required("origination.manage_portal_links", raise_exception=True)
def portal_invite_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """在线申请链接 for a customer (from the customer page): shown once, like upload links."""
    customer = customers_for(request.user).filter(pk=customer_pk).first()
    if customer is None:
        raise Http404
    form = PortalLinkForm(request.POST)
    days = form.cleaned_data["days"] if form.is_valid() else services.PORTAL_DAYS
    try:
        link, token = services.portal_invite_create(
            customer=customer, actor=request.user, days=days
        )
    except OriginationError as exc:
        messages.error(request, exc.message)
        return redirect("customers:detail", pk=customer.pk)
    url = request.build_absolute_uri(reverse("portal:invite", args=[token]))
    response = render(
        request,
        "origination/portal_invite_created.html",
        {"customer": customer, "link": link, "url": url},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@permission_required("origination.manage_portal_links", raise_exception=True)
def portal_invite_list(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = customers_for(request.user).filter(pk=customer_pk).first()
    if customer is None:
        raise Http404
    invites = PortalLink.objects.filter(
        customer=customer, purpose=PortalLink.Purpose.INVITE
    ).select_related("created_by")[:20]
    return render(
        request,
        "origination/portal_invite_list.html",
        {"customer": customer, "invites": invites, "now": timezone.now()},
    )


@login_required
@require_POST
@permission_required("origination.manage_portal_links", raise_exception=True)
def portal_invite_revoke(request: HttpRequest, customer_pk: int, link_pk: int) -> HttpResponse:
    customer = customers_for(request.user).filter(pk=customer_pk).first()
    link = PortalLink.objects.filter(
        pk=link_pk, customer=customer, purpose=PortalLink.Purpose.INVITE
    ).first()
    if customer is None or link is None:
        raise Http404
    try:
        services.portal_invite_revoke(link=link, actor=request.user)
    except OriginationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("链接已撤销。"))
    return redirect("origination:invite_list", customer_pk=customer.pk)
