"""API: Webhook 推送 — endpoints, their delivery log, redelivery. The signing secret is returned
once, in the response that creates the endpoint."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.pagination import Page, PageQuery, paginate
from credo.api.schemas import ErrorOut
from credo.webhooks import selectors, services
from credo.webhooks.errors import WebhookError
from credo.webhooks.models import WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}
MANAGE = "webhooks.manage_webhookendpoint"


class EndpointOut(Schema):
    id: int
    name: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    timeout_seconds: int
    max_attempts: int
    disable_after_failures: int
    consecutive_failures: int
    disabled_reason: str
    created_at: str


class EndpointCreatedOut(EndpointOut):
    secret: str


class EndpointIn(Schema):
    name: str
    url: str
    event_types: list[str]
    description: str = ""
    timeout_seconds: int | None = None
    max_attempts: int | None = None
    disable_after_failures: int | None = None


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_type: str
    idempotency_key: str
    status: str
    attempts: int
    next_attempt_at: str | None
    response_code: int | None
    response_body: str
    duration_ms: int | None
    error: str
    redelivery_of: int | None
    created_at: str
    delivered_at: str | None
    payload: dict[str, Any]


class DeliveryFilter(PageQuery):
    status: str = ""
    event_type: str = ""
    date_from: str = ""
    date_to: str = ""


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def endpoint_out(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": e.pk,
        "name": e.name,
        "url": e.url,
        "description": e.description,
        "event_types": list(e.event_types),
        "enabled": e.enabled,
        "timeout_seconds": e.timeout_seconds,
        "max_attempts": e.max_attempts,
        "disable_after_failures": e.disable_after_failures,
        "consecutive_failures": e.consecutive_failures,
        "disabled_reason": e.disabled_reason,
        "created_at": e.created_at.isoformat(),
    }


def delivery_out(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.pk,
        "endpoint_id": d.endpoint_id,
        "event_type": d.event_type,
        "idempotency_key": d.idempotency_key,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": _iso(d.next_attempt_at),
        "response_code": d.response_code,
        "response_body": d.response_body,
        "duration_ms": d.duration_ms,
        "error": d.error,
        "redelivery_of": d.redelivery_of_id,
        "created_at": d.created_at.isoformat(),
        "delivered_at": _iso(d.delivered_at),
        "payload": d.payload,
    }


def _err(exc: WebhookError) -> ApiError:
    return ApiError(exc.code, exc.message, status=exc.status)


def _endpoint(pk: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=pk).first()
    if endpoint is None:
        raise ApiError("not_found", _("Webhook 端点不存在。"), status=404)
    return endpoint


@router.get("/endpoints", response={200: Page[EndpointOut], **ERRORS}, summary="Webhook 端点列表")
def list_endpoints(request: HttpRequest, filters: Query[PageQuery]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, MANAGE)
    data = paginate(WebhookEndpoint.objects.order_by("id"), filters.page, filters.page_size)
    data["items"] = [endpoint_out(e) for e in data["items"]]
    return data


@router.post(
    "/endpoints",
    response={201: EndpointCreatedOut, **ERRORS},
    summary="新建 Webhook 端点（签名密钥只在此响应中返回一次）",
)
@idempotent
def create_endpoint(request: HttpRequest, payload: EndpointIn) -> Status[Any]:
    require_scope(request, "write")
    require_perm(request, MANAGE)
    try:
        endpoint, secret = services.endpoint_create(
            name=payload.name,
            url=payload.url,
            event_types=payload.event_types,
            description=payload.description,
            timeout_seconds=payload.timeout_seconds,
            max_attempts=payload.max_attempts,
            disable_after_failures=payload.disable_after_failures,
            actor=request.user,
        )
    except WebhookError as exc:
        raise _err(exc) from None
    return Status(201, {**endpoint_out(endpoint), "secret": secret})


@router.get(
    "/endpoints/{endpoint_id}", response={200: EndpointOut, **ERRORS}, summary="Webhook 端点详情"
)
def get_endpoint(request: HttpRequest, endpoint_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, MANAGE)
    return endpoint_out(_endpoint(endpoint_id))


@router.get(
    "/endpoints/{endpoint_id}/deliveries",
    response={200: Page[DeliveryOut], **ERRORS},
    summary="端点的投递记录",
)
def list_deliveries(
    request: HttpRequest, endpoint_id: int, filters: Query[DeliveryFilter]
) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, MANAGE)
    endpoint = _endpoint(endpoint_id)
    params = filters.model_dump(exclude={"page", "page_size"})
    data = paginate(selectors.delivery_list(params, endpoint), filters.page, filters.page_size)
    data["items"] = [delivery_out(d) for d in data["items"]]
    return data


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response={201: DeliveryOut, **ERRORS},
    summary="重新投递（新建一次投递，内容相同）",
)
@idempotent
def redeliver(request: HttpRequest, delivery_id: int) -> Status[Any]:
    require_scope(request, "write")
    require_perm(request, MANAGE)
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        raise ApiError("not_found", _("投递记录不存在。"), status=404)
    try:
        new = services.delivery_redeliver(delivery=delivery, actor=request.user)
    except WebhookError as exc:
        raise _err(exc) from None
    return Status(201, delivery_out(new))
