"""Customers API: CRUD, search, timeline, related parties and external data pulls.

Every read goes through the caller's data scope (another branch's customer is a 404, audited)
and sensitive fields are returned masked unless the caller's field permission allows the clear
value (each clear read is audited).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from credo.accounts.fieldperms import display_value, field_access, masked_value
from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.pagination import Page, PageQuery, paginate
from credo.api.schemas import ErrorOut
from credo.core.customfields import engine as cf
from credo.customers import selectors, services
from credo.customers.errors import AuthorizationMissing, CustomerError, DuplicateCustomer
from credo.customers.external import external_pull
from credo.customers.models import Customer, CustomerEvent, DataKind

router = Router(tags=["customers"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


class CustomerOut(Schema):
    id: int
    kind: str
    name: str
    uscc: str
    id_number: str
    phone: str
    bank_account: str
    registered_capital: str | None
    industry: str
    legal_representative: str
    founded_on: str | None
    employer: str
    region_code: str
    address: str
    status: str
    risk_grade: str
    risk_flags: list[str]
    owner: str
    version: int
    custom: dict[str, Any]
    created_at: str


class CustomerIn(Schema):
    kind: str
    name: str
    uscc: str = ""
    id_number: str = ""
    phone: str = ""
    bank_account: str = ""
    registered_capital: str | None = None
    industry: str = ""
    legal_representative: str = ""
    founded_on: str | None = None
    employer: str = ""
    region_code: str = ""
    address: str = ""
    custom: dict[str, Any] = {}


class CustomerPatch(Schema):
    version: int | None = None
    name: str | None = None
    phone: str | None = None
    bank_account: str | None = None
    registered_capital: str | None = None
    industry: str | None = None
    legal_representative: str | None = None
    founded_on: str | None = None
    employer: str | None = None
    region_code: str | None = None
    address: str | None = None
    custom: dict[str, Any] | None = None


class CustomerFilter(PageQuery):
    q: str = ""
    kind: str = ""
    region: str = ""
    industry: str = ""
    risk_grade: str = ""


class EventOut(Schema):
    id: int
    kind: str
    title: str
    occurred_at: str
    actor: str | None
    source: str
    detail: dict[str, Any]


class RelationOut(Schema):
    id: int
    kind: str
    direction: str
    other_id: int
    other_name: str
    share_pct: str | None
    other_risk_flags: list[str]


class RelationIn(Schema):
    other_id: int
    kind: str
    direction: str = "in"
    share_pct: str | None = None
    note: str = ""


class PullOut(Schema):
    id: int
    kind: str
    provider: str
    status: str
    error: str
    requested_at: str
    parsed: dict[str, Any]


def _sensitive(user: Any, customer: Customer, field: str, *, clear: bool) -> str:
    """Masked in lists; in a detail read, clear when the field permission allows (audited by
    ``display_value``, the same helper the web pages use)."""
    if not clear:
        return masked_value(customer, field)
    return display_value(user, customer, field, purpose="api")


def customer_out(user: Any, c: Customer, *, clear: bool = False) -> dict[str, Any]:
    visible = {f.key for f in cf.visible_fields("customer", user)}
    return {
        "id": c.pk,
        "kind": c.kind,
        "name": c.name,
        "uscc": c.uscc,
        "id_number": _sensitive(user, c, "id_number", clear=clear),
        "phone": _sensitive(user, c, "phone", clear=clear),
        "bank_account": _sensitive(user, c, "bank_account", clear=clear),
        "registered_capital": str(c.registered_capital)
        if c.registered_capital is not None
        else None,
        "industry": c.industry,
        "legal_representative": c.legal_representative,
        "founded_on": c.founded_on.isoformat() if c.founded_on else None,
        "employer": c.employer,
        "region_code": c.region_code,
        "address": c.address,
        "status": c.status,
        "risk_grade": c.risk_grade,
        "risk_flags": list(c.risk_flags),
        "owner": c.owner.get_username(),
        "version": c.version,
        "custom": {k: v for k, v in c.custom.items() if k in visible},
        "created_at": c.created_at.isoformat(),
    }


def _get(request: HttpRequest, pk: int) -> Customer:
    try:
        return selectors.customer_get(request.user, pk)
    except Http404:
        raise ApiError("not_found", _("客户不存在或无权访问"), status=404) from None


def _raise_customer_error(exc: CustomerError) -> None:
    if isinstance(exc, DuplicateCustomer):
        raise ApiError(
            "duplicate_customer",
            exc.message,
            status=409,
            details={"existing_id": exc.existing.pk, **exc.field_errors},
        ) from exc
    if isinstance(exc, AuthorizationMissing):
        raise ApiError(exc.code, exc.message, status=403) from exc
    status = 409 if exc.code == "stale_version" else 422
    raise ApiError(exc.code, exc.message, status=status, details=exc.field_errors) from exc


@router.get("", response={200: Page[CustomerOut], **ERRORS}, summary="客户列表/搜索")
def list_customers(request: HttpRequest, filters: Query[CustomerFilter]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "customers.view_customer")
    params = filters.model_dump()
    qs = selectors.customer_list(request.user, {**params, **request.GET.dict()}, purpose="api")
    data = paginate(qs, filters.page, filters.page_size)
    data["items"] = [customer_out(request.user, c) for c in data["items"]]
    return data


@router.get(
    "/custom-fields/schema",
    response={200: dict[str, Any], **ERRORS},
    summary="客户自定义字段的 JSON Schema",
)
def custom_field_schema(request: HttpRequest) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "customers.view_customer")
    return cf.json_schema("customer", cf.visible_fields("customer", request.user))


@router.post("", response={201: CustomerOut, **ERRORS}, summary="新建客户（支持 Idempotency-Key）")
@idempotent
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status[Any]:
    require_scope(request, "write")
    require_perm(request, "customers.add_customer")
    data = payload.model_dump()
    custom_raw = data.pop("custom") or {}
    values, errors = cf.validate_raw("customer", custom_raw, user=request.user)
    if errors:
        raise ApiError(
            "validation_error",
            _("自定义字段有误"),
            status=422,
            details={f"custom.{k}": v for k, v in errors.items()},
        )
    try:
        with transaction.atomic():
            customer = services.customer_create(
                actor=request.user, data=data, custom=values, source="api"
            )
    except CustomerError as exc:
        _raise_customer_error(exc)
    return Status(201, customer_out(request.user, customer))


@router.get("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="客户详情")
def get_customer(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "customers.view_customer")
    customer = _get(request, customer_id)
    with transaction.atomic():
        return customer_out(request.user, customer, clear=True)


@router.patch("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="修改客户资料")
def patch_customer(
    request: HttpRequest, customer_id: int, payload: CustomerPatch
) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "customers.change_customer")
    customer = _get(request, customer_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    custom_raw = data.pop("custom", None)
    for field in ("phone", "bank_account"):
        if field in data and field_access(request.user, f"customers.customer.{field}") != "edit":
            raise ApiError("forbidden", _("无权修改字段：%(f)s") % {"f": field}, status=403)
    custom = None
    if custom_raw is not None:
        values, errors = cf.validate_raw("customer", custom_raw, user=request.user, partial=True)
        if errors:
            raise ApiError(
                "validation_error",
                _("自定义字段有误"),
                status=422,
                details={f"custom.{k}": v for k, v in errors.items()},
            )
        custom = {**customer.custom, **values}
    try:
        with transaction.atomic():
            customer = services.customer_update(
                customer=customer,
                actor=request.user,
                data=data,
                custom=custom,
                expected_version=version,
            )
    except CustomerError as exc:
        _raise_customer_error(exc)
    return customer_out(request.user, customer)


class TimelineFilter(PageQuery):
    kind: list[str] = []


@router.get(
    "/{customer_id}/timeline", response={200: Page[EventOut], **ERRORS}, summary="客户时间线"
)
def customer_timeline(
    request: HttpRequest, customer_id: int, filters: Query[TimelineFilter]
) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "customers.view_customer")
    customer = _get(request, customer_id)
    kinds = [k for k in filters.kind if k in CustomerEvent.Kind.values]
    data = paginate(
        selectors.timeline(customer, kinds=kinds or None), filters.page, filters.page_size
    )
    data["items"] = [
        {
            "id": e.pk,
            "kind": e.kind,
            "title": e.title,
            "occurred_at": e.occurred_at.isoformat(),
            "actor": e.actor.get_username() if e.actor else None,
            "source": e.source,
            "detail": e.detail,
        }
        for e in data["items"]
    ]
    return data


@router.get(
    "/{customer_id}/relations", response={200: list[RelationOut], **ERRORS}, summary="关联方"
)
def customer_relations(request: HttpRequest, customer_id: int) -> list[dict[str, Any]]:
    require_scope(request, "read")
    require_perm(request, "customers.view_customer")
    customer = _get(request, customer_id)
    return [
        {
            "id": p.relation.pk,
            "kind": p.relation.kind,
            "direction": p.direction,
            "other_id": p.other.pk,
            "other_name": p.other.name if p.visible else "",
            "share_pct": str(p.relation.share_pct) if p.relation.share_pct is not None else None,
            "other_risk_flags": list(p.other.risk_flags),
        }
        for p in selectors.related_parties(customer, request.user)
    ]


@router.post(
    "/{customer_id}/relations",
    response={201: RelationOut, **ERRORS},
    summary="新增关联方（支持 Idempotency-Key）",
)
@idempotent
def add_relation(request: HttpRequest, customer_id: int, payload: RelationIn) -> Status[Any]:
    require_scope(request, "write")
    require_perm(request, "customers.change_customer")
    customer = _get(request, customer_id)
    other = _get(request, payload.other_id)
    if payload.direction not in ("in", "out"):
        raise ApiError("validation_error", _("direction 只能是 in 或 out"), status=422)
    src, dst = (other, customer) if payload.direction == "in" else (customer, other)
    try:
        relation = services.relation_add(
            from_customer=src,
            to_customer=dst,
            kind=payload.kind,
            actor=request.user,
            share_pct=payload.share_pct,
            note=payload.note,
        )
    except CustomerError as exc:
        _raise_customer_error(exc)
    return Status(
        201,
        {
            "id": relation.pk,
            "kind": relation.kind,
            "direction": payload.direction,
            "other_id": other.pk,
            "other_name": other.name,
            "share_pct": str(relation.share_pct) if relation.share_pct is not None else None,
            "other_risk_flags": list(other.risk_flags),
        },
    )


def _pull_out(p: Any) -> dict[str, Any]:
    return {
        "id": p.pk,
        "kind": p.kind,
        "provider": p.provider.name,
        "status": p.status,
        "error": p.error,
        "requested_at": p.requested_at.isoformat(),
        "parsed": p.parsed,
    }


@router.get(
    "/{customer_id}/pulls", response={200: list[PullOut], **ERRORS}, summary="外部数据查询记录"
)
def customer_pulls(request: HttpRequest, customer_id: int) -> list[dict[str, Any]]:
    require_scope(request, "read")
    require_perm(request, "customers.view_customer")
    customer = _get(request, customer_id)
    return [_pull_out(p) for p in customer.pulls.select_related("provider")[:50]]


@router.post(
    "/{customer_id}/pulls/{kind}",
    response={201: PullOut, **ERRORS},
    summary="查询外部数据（工商/征信/司法/舆情）",
)
def pull_external(request: HttpRequest, customer_id: int, kind: str) -> Status[Any]:
    require_scope(request, "write")
    require_perm(request, "customers.pull_external_data")
    customer = _get(request, customer_id)
    if kind not in DataKind.values:
        raise ApiError(
            "validation_error",
            _("未知的外部数据类型"),
            status=422,
            details={"kind": list(DataKind.values)},
        )
    try:
        pull = external_pull(customer=customer, kind=kind, actor=request.user)
    except CustomerError as exc:
        _raise_customer_error(exc)
    return Status(201, _pull_out(pull))
