"""贷前申请 API: applications (scoped), create, submit, withdraw, answer a return, document
upload (multipart) and review, the admission decision, customer portal links and the customer's
online-application invitation. Approval actions live in the approvals API.

Amounts are decimal strings in yuan ("1234.56").
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.pagination import Page, PageQuery, paginate
from credo.api.routers.collateral import (
    CollateralOut,
    GuaranteeOut,
    collateral_out,
    guarantee_out,
)
from credo.api.schemas import ErrorOut
from credo.core.money import Money
from credo.customers.selectors import customers_for
from credo.lending.models import ProductVersion
from credo.lending.schedule import fen_to_str
from credo.origination import documents, selectors, services
from credo.origination.errors import OriginationError
from credo.origination.models import Application, Document, PortalLink

router = Router(tags=["origination"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}


class GuaranteeIn(Schema):
    """担保信息: ``collateral`` rows become collateral records (押品, 待登记); ``guarantor`` rows
    with ``guarantor_id`` a 保证合同 (待生效), with a ``name`` only a declared guarantor."""

    type: str
    name: str = ""
    value: str | None = None
    description: str | None = None
    kind: str | None = None
    category: str | None = None
    registration_number: str | None = None
    owner_id: int | None = None
    guarantor_id: int | None = None
    amount: str | None = None


class ApplicationIn(Schema):
    customer_id: int
    product: str
    amount: str
    months: int
    annual_rate: str | None = None
    purpose: str
    guarantees: list[GuaranteeIn] = []
    lead_id: int | None = None


class ApplicationOut(Schema):
    id: int
    number: str
    customer_id: int
    customer_name: str
    product: str
    product_version: int
    amount: str
    months: int
    annual_rate: str
    method: str
    purpose: str
    guarantees: list[dict[str, Any]]
    status: str
    risk_grade: str
    risk_score: int | None
    approved_amount: str | None
    approved_months: int | None
    loan_id: int | None
    owner: str
    submitted_at: str | None
    version: int


class ChecklistRow(Schema):
    item: str
    state: str
    document_id: int | None
    reject_reason: str
    accept: str
    max_mb: int


class ApplicationCollateralOut(CollateralOut):
    """A 押品 record linked to the application, with the 抵押率 agreed for it (issue 18 #7)."""

    agreed_ltv: str | None


class ApplicationDetailOut(ApplicationOut):
    completeness: int
    checklist: list[ChecklistRow]
    outstanding: list[dict[str, str]]
    collateral: list[ApplicationCollateralOut]
    guarantee_contracts: list[GuaranteeOut]


class DocumentOut(Schema):
    id: int
    item: str
    original_name: str
    size: int
    sha256: str
    status: str
    via: str


class DecisionOut(Schema):
    evaluated: bool
    passed: bool | None
    reasons: list[dict[str, str]]
    model: str | None
    risk_grade: str
    risk_score: int | None


class SubmitIn(Schema):
    version: int | None = None


class PortalLinkIn(Schema):
    days: int = services.PORTAL_DAYS


class PortalLinkOut(Schema):
    id: int
    url: str
    token: str
    expires_at: str


class WithdrawIn(Schema):
    reason: str = ""


class AnswerIn(Schema):
    answer: str


class ReviewIn(Schema):
    decision: Literal["accept", "reject"]
    reason: str = ""


class ReviewedDocumentOut(DocumentOut):
    reject_reason: str
    reviewed_by: str | None
    reviewed_at: str | None


class PortalInviteOut(Schema):
    id: int
    customer_id: int
    url: str
    token: str
    expires_at: str


class PortalInviteStateOut(Schema):
    id: int
    customer_id: int
    expires_at: str
    used_at: str | None
    revoked_at: str | None


class ApplicationFilter(PageQuery):
    q: str = ""
    status: str = ""
    product: str = ""


def _err(exc: OriginationError) -> ApiError:
    return ApiError(exc.code, exc.message, status=exc.status)


def _get(request: HttpRequest, application_id: int) -> Application:
    try:
        return selectors.application_get(request.user, application_id)
    except Http404:
        raise ApiError("not_found", _("申请不存在或无权访问"), status=404) from None


def application_out(app: Application) -> dict[str, Any]:
    return {
        "id": app.pk,
        "number": app.number,
        "customer_id": app.customer_id,
        "customer_name": app.customer.name,
        "product": app.product_version.product.code,
        "product_version": app.product_version.number,
        "amount": fen_to_str(app.amount.fen),
        "months": app.months,
        "annual_rate": str(app.annual_rate.normalize()),
        "method": app.method,
        "purpose": app.purpose,
        "guarantees": list(app.guarantees or []),
        "status": app.status,
        "risk_grade": app.risk_grade,
        "risk_score": app.risk_score,
        "approved_amount": fen_to_str(app.approved_amount.fen) if app.approved_amount else None,
        "approved_months": app.approved_months,
        "loan_id": app.loan_id,
        "owner": app.owner.get_username(),
        "submitted_at": app.submitted_at.isoformat() if app.submitted_at else None,
        "version": app.version,
    }


def detail_out(app: Application) -> dict[str, Any]:
    return {
        **application_out(app),
        "completeness": services.completeness(app),
        "checklist": [
            {
                "item": r["item"],
                "state": r["state"],
                "document_id": r["doc"].pk if r["doc"] else None,
                "reject_reason": r["doc"].reject_reason if r["doc"] else "",
                "accept": r["rule"].accept,
                "max_mb": r["rule"].max_mb,
            }
            for r in services.checklist(app)
        ],
        "outstanding": services.outstanding_items(app),
        **security_out(app),
    }


def security_out(app: Application) -> dict[str, Any]:
    """The application's collateral records and guarantee contracts (the records, not only the
    declared ``guarantees`` list), in the collateral API's shapes."""
    from credo.collateral.models import CollateralLink, Guarantee

    links = CollateralLink.objects.filter(application_id=app.pk).select_related("collateral__owner")
    contracts = Guarantee.objects.filter(application_id=app.pk).select_related("guarantor")
    return {
        "collateral": [
            {
                **collateral_out(link.collateral),
                "agreed_ltv": str(link.agreed_ltv) if link.agreed_ltv is not None else None,
            }
            for link in links.order_by("pk")
        ],
        "guarantee_contracts": [guarantee_out(g) for g in contracts.order_by("pk")],
    }


def document_out(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.pk,
        "item": doc.item,
        "original_name": doc.original_name,
        "size": doc.size,
        "sha256": doc.sha256,
        "status": doc.status,
        "via": doc.via,
    }


@router.get("/applications", response={200: Page[ApplicationOut], **ERRORS}, summary="申请列表")
def list_applications(request: HttpRequest, filters: Query[ApplicationFilter]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "origination.view_application")
    qs = selectors.application_list(request.user, filters.model_dump())
    data = paginate(qs, filters.page, filters.page_size)
    data["items"] = [application_out(a) for a in data["items"]]
    return data


@router.post(
    "/applications", response={201: ApplicationDetailOut, **ERRORS}, summary="新建申请（草稿）"
)
@idempotent
def create_application(request: HttpRequest, body: ApplicationIn) -> Any:
    require_scope(request, "write")
    require_perm(request, "origination.add_application")
    customer = customers_for(request.user).filter(pk=body.customer_id).first()
    if customer is None:
        raise ApiError("not_found", _("客户不存在或无权访问"), status=404)
    pv = (
        ProductVersion.objects.filter(product__code=body.product, status="published")
        .select_related("product")
        .first()
    )
    if pv is None:
        raise ApiError(
            "validation_error",
            _("请求参数校验失败"),
            status=422,
            details={"body.product": [_("产品不存在或未发布")]},
        )
    try:
        amount = Money(body.amount)
    except (ArithmeticError, ValueError, TypeError):
        raise ApiError(
            "validation_error",
            _("请求参数校验失败"),
            status=422,
            details={"body.amount": [_("金额格式不正确")]},
        ) from None
    try:
        app = services.application_create(
            customer=customer,
            product_version=pv,
            amount=amount,
            months=body.months,
            annual_rate=body.annual_rate,
            purpose=body.purpose,
            guarantees=[g.model_dump() for g in body.guarantees],
            lead_id=body.lead_id,
            actor=request.user,
        )
    except OriginationError as exc:
        raise _err(exc) from None
    return Status(201, detail_out(app))


@router.get(
    "/applications/{application_id}",
    response={200: ApplicationDetailOut, **ERRORS},
    summary="申请详情（含资料清单）",
)
def get_application(request: HttpRequest, application_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "origination.view_application")
    return detail_out(_get(request, application_id))


@router.post(
    "/applications/{application_id}/submit",
    response={200: ApplicationDetailOut, **ERRORS},
    summary="提交申请（准入评估并进入审批）",
)
@idempotent
def submit_application(request: HttpRequest, application_id: int, body: SubmitIn) -> Any:
    require_scope(request, "write")
    require_perm(request, "origination.submit_application")
    app = _get(request, application_id)
    try:
        app = services.application_submit(
            application=app, actor=request.user, expected_version=body.version
        )
    except OriginationError as exc:
        raise _err(exc) from None
    return detail_out(selectors.application_get(request.user, app.pk))


@router.post(
    "/applications/{application_id}/documents",
    response={201: DocumentOut, **ERRORS},
    summary="上传资料（multipart：item + file）",
)
def upload_document(
    request: HttpRequest,
    application_id: int,
    item: Form[str],
    file: File[UploadedFile],
) -> Any:
    require_scope(request, "write")
    require_perm(request, "origination.change_application")
    app = _get(request, application_id)
    data = documents.read_upload(file, documents.rule_for(item).max_bytes)
    try:
        doc = services.document_upload(
            application=app,
            item=item,
            name=file.name or "",
            data=data,
            actor=request.user,
            via="api",
        )
    except OriginationError as exc:
        raise _err(exc) from None
    return Status(201, document_out(doc))


@router.get(
    "/applications/{application_id}/decision",
    response={200: DecisionOut, **ERRORS},
    summary="准入决定与风险等级",
)
def application_decision(request: HttpRequest, application_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "origination.view_application")
    app = _get(request, application_id)
    ev = app.admission_evaluation
    return {
        "evaluated": app.admission_passed is not None,
        "passed": app.admission_passed,
        "reasons": list(app.admission_reasons or []),
        "model": f"{ev.model_key} v{ev.version.number}" if ev else None,
        "risk_grade": app.risk_grade,
        "risk_score": app.risk_score,
    }


@router.post(
    "/applications/{application_id}/portal-links",
    response={201: PortalLinkOut, **ERRORS},
    summary="生成客户上传链接（令牌只返回一次）",
)
def create_portal_link(request: HttpRequest, application_id: int, body: PortalLinkIn) -> Any:
    require_scope(request, "write")
    require_perm(request, "origination.manage_portal_links")
    app = _get(request, application_id)
    try:
        link, token = services.portal_link_create(
            application=app, actor=request.user, days=body.days
        )
    except OriginationError as exc:
        raise _err(exc) from None
    from django.urls import reverse

    return Status(
        201,
        {
            "id": link.pk,
            "url": request.build_absolute_uri(reverse("portal:page", args=[token])),
            "token": token,
            "expires_at": link.expires_at.isoformat(),
        },
    )


@router.post(
    "/applications/{application_id}/withdraw",
    response={200: ApplicationDetailOut, **ERRORS},
    summary="撤回申请（支持 Idempotency-Key）",
)
@idempotent
def withdraw_application(request: HttpRequest, application_id: int, body: WithdrawIn) -> Any:
    require_scope(request, "write")
    require_perm(request, "origination.change_application")
    app = _get(request, application_id)
    try:
        app = services.application_withdraw(
            application=app, actor=request.user, reason=body.reason.strip()[:300]
        )
    except OriginationError as exc:
        raise _err(exc) from None
    return detail_out(selectors.application_get(request.user, app.pk))


@router.post(
    "/applications/{application_id}/answer",
    response={200: ApplicationDetailOut, **ERRORS},
    summary="补充说明（审批退回后回答问题，申请重新进入审批；支持 Idempotency-Key）",
)
@idempotent
def answer_application(request: HttpRequest, application_id: int, body: AnswerIn) -> Any:
    require_scope(request, "write")
    require_perm(request, "origination.change_application")
    app = _get(request, application_id)
    try:
        app = services.application_answer(application=app, actor=request.user, answer=body.answer)
    except OriginationError as exc:
        raise _err(exc) from None
    return detail_out(selectors.application_get(request.user, app.pk))


def reviewed_document_out(doc: Document) -> dict[str, Any]:
    return {
        **document_out(doc),
        "reject_reason": doc.reject_reason,
        "reviewed_by": doc.reviewed_by.get_username() if doc.reviewed_by else None,
        "reviewed_at": doc.reviewed_at.isoformat() if doc.reviewed_at else None,
    }


@router.post(
    "/applications/{application_id}/documents/{document_id}/review",
    response={200: ReviewedDocumentOut, **ERRORS},
    summary="审核资料：accept / reject（退回须填原因，并发出补正通知；支持 Idempotency-Key）",
)
@idempotent
def review_document(
    request: HttpRequest, application_id: int, document_id: int, body: ReviewIn
) -> Any:
    require_scope(request, "write")
    require_perm(request, "origination.review_documents")
    app = _get(request, application_id)
    doc = app.documents.filter(pk=document_id).first()
    if doc is None:
        raise ApiError("not_found", _("资料不存在或无权访问"), status=404)
    try:
        doc = services.document_review(
            document=doc,
            accept=body.decision == "accept",
            actor=request.user,
            reason=body.reason,
        )
    except OriginationError as exc:
        raise _err(exc) from None
    return reviewed_document_out(doc)


@router.post(
    "/customers/{customer_id}/portal-invites",
    response={201: PortalInviteOut, **ERRORS},
    summary="生成客户在线申请链接（客户自行填写申请；令牌只返回一次）",
)
def create_portal_invite(request: HttpRequest, customer_id: int, body: PortalLinkIn) -> Any:
    require_scope(request, "write")
    require_perm(request, "origination.manage_portal_links")
    customer = customers_for(request.user).filter(pk=customer_id).first()
    if customer is None:
        raise ApiError("not_found", _("客户不存在或无权访问"), status=404)
    try:
        link, token = services.portal_invite_create(
            customer=customer, actor=request.user, days=body.days
        )
    except OriginationError as exc:
        raise _err(exc) from None
    from django.urls import reverse

    return Status(
        201,
        {
            "id": link.pk,
            "customer_id": customer.pk,
            "url": request.build_absolute_uri(reverse("portal:invite", args=[token])),
            "token": token,
            "expires_at": link.expires_at.isoformat(),
        },
    )


@router.post(
    "/portal-invites/{invite_id}/revoke",
    response={200: PortalInviteStateOut, **ERRORS},
    summary="撤销客户在线申请链接（已使用的链接不变）",
)
def revoke_portal_invite(request: HttpRequest, invite_id: int) -> Any:
    require_scope(request, "write")
    require_perm(request, "origination.manage_portal_links")
    link = (
        PortalLink.objects.filter(
            pk=invite_id,
            purpose=PortalLink.Purpose.INVITE,
            customer__in=customers_for(request.user),
        )
        .select_related("customer")
        .first()
    )
    if link is None:
        raise ApiError("not_found", _("链接不存在或无权访问"), status=404)
    try:
        link = services.portal_invite_revoke(link=link, actor=request.user)
    except OriginationError as exc:
        raise _err(exc) from None
    return {
        "id": link.pk,
        "customer_id": link.customer_id,
        "expires_at": link.expires_at.isoformat(),
        "used_at": link.used_at.isoformat() if link.used_at else None,
        "revoked_at": link.revoked_at.isoformat() if link.revoked_at else None,
    }
