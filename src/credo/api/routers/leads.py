"""线索 API: list/create (the inbound webhook: token + ``Idempotency-Key``), detail, update,
follow-ups, assignment, stage changes and conversion. Lists are scoped by the token user's data
scope; amounts are decimal strings in yuan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.pagination import Page, paginate
from credo.api.schemas import ErrorOut
from credo.core.masking import mask
from credo.leads import selectors, services
from credo.leads.errors import LeadError
from credo.leads.models import Lead

router = Router(tags=["leads"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


class LeadIn(Schema):
    name: str
    contact_name: str = ""
    phone: str = ""
    uscc: str = ""
    source: str = "api"
    campaign: str = ""
    region_code: str = ""
    business_type: str = ""
    requested_amount: str = ""
    note: str = ""


class LeadPatch(Schema):
    name: str | None = None
    contact_name: str | None = None
    phone: str | None = None
    uscc: str | None = None
    source: str | None = None
    campaign: str | None = None
    region_code: str | None = None
    business_type: str | None = None
    requested_amount: str | None = None
    note: str | None = None


class LeadOut(Schema):
    id: int
    name: str
    contact_name: str
    phone_masked: str
    uscc: str
    source: str
    campaign: str
    region_code: str
    business_type: str
    requested_amount: str | None
    stage: str
    lost_reason: str
    owner: str | None
    team: str | None
    assigned_at: str | None
    assignment: dict[str, Any]
    is_duplicate: bool
    duplicate_of: int | None
    customer_id: int | None
    next_follow_up: str | None
    created_at: str


class FollowUpIn(Schema):
    kind: str
    outcome: str
    notes: str = ""
    next_step: str = ""
    next_date: dt.date | None = None


class FollowUpOut(Schema):
    id: int
    lead_id: int
    kind: str
    outcome: str
    notes: str
    next_step: str
    next_date: str | None
    stage: str


class AssignIn(Schema):
    username: str = ""  # empty → run the assignment rules


class StageIn(Schema):
    stage: str
    reason: str = ""


class ConvertIn(Schema):
    kind: str = ""
    id_number: str = ""


class ConvertOut(Schema):
    lead: LeadOut
    customer_id: int
    linked_existing: bool


class LeadFilter(Schema):
    q: str = ""
    stage: str = ""
    source: str = ""
    campaign: str = ""
    region: str = ""
    owner: str = ""
    overdue: str = ""
    mine: str = ""
    page: int = 1
    page_size: int | None = None


def _mask_phone(phone: str) -> str:
    return mask("phone", phone)


def lead_out(lead: Lead) -> dict[str, Any]:
    info = lead.assignment_info or {}
    return {
        "id": lead.pk,
        "name": lead.name,
        "contact_name": lead.contact_name,
        "phone_masked": _mask_phone(lead.phone or ""),
        "uscc": lead.uscc,
        "source": lead.source,
        "campaign": lead.campaign,
        "region_code": lead.region_code,
        "business_type": lead.business_type,
        "requested_amount": str(lead.requested_amount.yuan) if lead.requested_amount else None,
        "stage": lead.stage,
        "lost_reason": lead.lost_reason,
        "owner": lead.owner.get_username() if lead.owner is not None else None,
        "team": lead.team.code if lead.team is not None else None,
        "assigned_at": lead.assigned_at.isoformat() if lead.assigned_at else None,
        "assignment": {
            "version": info.get("version"),
            "note": info.get("note"),
            "result": info.get("result", {}),
            "rules": [r.get("description") or r.get("rule") for r in info.get("reasons", [])],
        },
        "is_duplicate": lead.is_duplicate,
        "duplicate_of": lead.duplicate_of_id,
        "customer_id": lead.customer_id,
        "next_follow_up": lead.next_follow_up.isoformat() if lead.next_follow_up else None,
        "created_at": lead.created_at.isoformat(),
    }


def _error(exc: LeadError) -> ApiError:
    details = {f"body.{k}": [v] for k, v in exc.field_errors.items()} or None
    return ApiError(exc.code, exc.message, status=exc.status, details=details)


def _get(request: HttpRequest, lead_id: int, *, read_only: bool = False) -> Lead:
    try:
        return selectors.lead_get(request.user, lead_id, read_only=read_only)
    except Http404:
        raise ApiError("not_found", _("线索不存在或无权访问"), status=404) from None


@router.get("", response={200: Page[LeadOut], **ERRORS}, summary="线索列表（按数据权限）")
def list_leads(request: HttpRequest, filters: Query[LeadFilter]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "leads.view_lead")
    data = paginate(
        # Like the pages: the scope plus the leads the user entered (read only).
        selectors.lead_list(request.user, filters.model_dump(), with_created=True),
        filters.page,
        filters.page_size,
    )
    data["items"] = [lead_out(lead) for lead in data["items"]]
    return data


@router.post(
    "",
    response={201: LeadOut, **ERRORS},
    summary="新建线索 / 入站 Webhook（支持 Idempotency-Key）",
)
@idempotent
def create_lead(request: HttpRequest, payload: LeadIn) -> Status[Any]:
    require_scope(request, "write")
    require_perm(request, "leads.add_lead")
    try:
        lead = services.lead_create(actor=request.user, data=payload.model_dump(), via="api")
    except LeadError as exc:
        raise _error(exc) from exc
    return Status(201, lead_out(lead))


@router.get("/{lead_id}", response={200: LeadOut, **ERRORS}, summary="线索详情")
def get_lead(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "leads.view_lead")
    return lead_out(_get(request, lead_id, read_only=True))


@router.patch("/{lead_id}", response={200: LeadOut, **ERRORS}, summary="修改线索")
def patch_lead(request: HttpRequest, lead_id: int, payload: LeadPatch) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "leads.change_lead")
    lead = _get(request, lead_id)
    data = payload.model_dump(exclude_none=True)
    try:
        lead = services.lead_update(lead=lead, actor=request.user, data=data)
    except LeadError as exc:
        raise _error(exc) from exc
    return lead_out(selectors.lead_get(request.user, lead.pk))


@router.post(
    "/{lead_id}/follow-ups",
    response={201: FollowUpOut, **ERRORS},
    summary="登记跟进（支持 Idempotency-Key）",
)
@idempotent
def add_follow_up(request: HttpRequest, lead_id: int, payload: FollowUpIn) -> Status[Any]:
    require_scope(request, "write")
    require_perm(request, "leads.change_lead")
    lead = _get(request, lead_id)
    try:
        fu = services.followup_add(lead=lead, actor=request.user, **payload.model_dump())
    except LeadError as exc:
        raise _error(exc) from exc
    lead.refresh_from_db()
    return Status(
        201,
        {
            "id": fu.pk,
            "lead_id": lead.pk,
            "kind": fu.kind,
            "outcome": fu.outcome,
            "notes": fu.notes,
            "next_step": fu.next_step,
            "next_date": fu.next_date.isoformat() if fu.next_date else None,
            "stage": lead.stage,
        },
    )


@router.post("/{lead_id}/assign", response={200: LeadOut, **ERRORS}, summary="分配线索")
def assign_lead(request: HttpRequest, lead_id: int, payload: AssignIn) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "leads.assign_lead")
    lead = _get(request, lead_id)
    try:
        if payload.username:
            target = (
                selectors.assignable_users(request.user).filter(username=payload.username).first()
            )
            if target is None:
                raise ApiError(
                    "validation_error",
                    _("请求参数校验失败"),
                    status=422,
                    details={"body.username": [_("用户不存在或超出您的数据范围")]},
                )
            services.lead_assign_to(lead=lead, user=target, actor=request.user)
        else:
            services.lead_assign(lead=lead, actor=request.user)
    except LeadError as exc:
        raise _error(exc) from exc
    return lead_out(Lead.objects.select_related("owner", "team").get(pk=lead.pk))


@router.post("/{lead_id}/stage", response={200: LeadOut, **ERRORS}, summary="变更阶段")
def change_stage(request: HttpRequest, lead_id: int, payload: StageIn) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "leads.change_lead")
    lead = _get(request, lead_id)
    try:
        lead = services.lead_change_stage(
            lead=lead, stage=payload.stage, actor=request.user, reason=payload.reason
        )
    except LeadError as exc:
        raise _error(exc) from exc
    return lead_out(lead)


@router.post(
    "/{lead_id}/convert",
    response={200: ConvertOut, **ERRORS},
    summary="转化为客户（已有相同证件的客户则关联；支持 Idempotency-Key）",
)
@idempotent
def convert_lead(request: HttpRequest, lead_id: int, payload: ConvertIn) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "leads.convert_lead")
    require_perm(request, "customers.add_customer")
    lead = _get(request, lead_id)
    try:
        lead, customer, linked = services.lead_convert(
            lead=lead, actor=request.user, data=payload.model_dump(exclude_defaults=True)
        )
    except LeadError as exc:
        raise _error(exc) from exc
    return {"lead": lead_out(lead), "customer_id": customer.pk, "linked_existing": linked}
