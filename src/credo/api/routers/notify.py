"""通知 API: the outbox (admin), my in-app inbox, mark read, retry a failed message."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.pagination import Page, PageQuery, paginate
from credo.api.schemas import ErrorOut
from credo.notify import selectors, services
from credo.notify.errors import NotifyError
from credo.notify.models import Message

router = Router(tags=["notify"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


class MessageOut(Schema):
    id: int
    template: str
    kind: str
    channel: str | None
    category: str
    recipient: str
    address: str
    subject: str
    body: str
    status: str
    attempts: int
    last_error: str
    suppressed_reason: str
    provider_message_id: str
    created_at: dt.datetime
    scheduled_at: dt.datetime
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None


class InboxOut(Schema):
    id: int
    subject: str
    body: str
    url: str
    sent_at: dt.datetime | None
    read_at: dt.datetime | None


class InboxPage(Schema):
    items: list[InboxOut]
    count: int
    page: int
    page_size: int
    pages: int
    unread: int


class MessageFilter(PageQuery):
    status: str | None = None
    kind: str | None = None
    category: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str | None = None


class InboxFilter(PageQuery):
    unread: bool = False


def message_out(m: Message) -> dict[str, Any]:
    return {
        "id": m.pk,
        "template": m.template_code,
        "kind": m.kind,
        "channel": m.channel.name if m.channel else None,
        "category": m.category,
        "recipient": m.recipient_label,
        "address": m.address_masked,  # never the clear address
        "subject": m.subject,
        "body": m.body,
        "status": m.status,
        "attempts": m.attempts,
        "last_error": m.last_error,
        "suppressed_reason": m.suppressed_reason,
        "provider_message_id": m.provider_message_id,
        "created_at": m.created_at,
        "scheduled_at": m.scheduled_at,
        "next_attempt_at": m.next_attempt_at,
        "sent_at": m.sent_at,
    }


def inbox_out(m: Message) -> dict[str, Any]:
    return {
        "id": m.pk,
        "subject": m.subject,
        "body": m.body,
        "url": m.url,
        "sent_at": m.sent_at,
        "read_at": m.read_at,
    }


def _error(exc: NotifyError) -> ApiError:
    return ApiError(exc.code, exc.message, status=exc.status)


@router.get("/messages", response={200: Page[MessageOut], **ERRORS}, summary="发送记录")
def list_messages(request: HttpRequest, filters: Query[MessageFilter]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "notify.view_message")
    params = filters.model_dump(exclude_none=True)
    data = paginate(selectors.outbox_list(request.user, params), filters.page, filters.page_size)
    data["items"] = [message_out(m) for m in data["items"]]
    return data


@router.get("/messages/{message_id}", response={200: MessageOut, **ERRORS}, summary="消息详情")
def get_message(request: HttpRequest, message_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "notify.view_message")
    return message_out(selectors.outbox_get(request.user, message_id))


@router.post(
    "/messages/{message_id}/retry", response={200: MessageOut, **ERRORS}, summary="重试发送"
)
@idempotent
def retry_message(request: HttpRequest, message_id: int) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "notify.manage_channels")
    msg = selectors.outbox_get(request.user, message_id)
    try:
        msg = services.message_retry(message=msg, actor=request.user)
    except NotifyError as exc:
        raise _error(exc) from exc
    return message_out(msg)


@router.get("/inbox", response={200: InboxPage, **ERRORS}, summary="我的站内消息")
def my_inbox(request: HttpRequest, filters: Query[InboxFilter]) -> dict[str, Any]:
    require_scope(request, "read")
    qs = selectors.inbox(request.user, unread_only=filters.unread)
    data = paginate(qs, filters.page, filters.page_size)
    data["items"] = [inbox_out(m) for m in data["items"]]
    data["unread"] = selectors.unread_count(request.user)
    return data


@router.post("/inbox/{message_id}/read", response={200: InboxOut, **ERRORS}, summary="标为已读")
def mark_read(request: HttpRequest, message_id: int) -> dict[str, Any]:
    require_scope(request, "write")
    msg = selectors.inbox_get(request.user, message_id)
    try:
        services.message_mark_read(message=msg, user=request.user)
    except NotifyError as exc:
        raise _error(exc) from exc
    return inbox_out(msg)
