"""Every write of the webhooks app: endpoints, deliveries, the sender.

Deliveries come from the business event stream (one consumer, :func:`handle_events`, inserting
the deliveries of a batch in bulk) and from automations (:func:`webhook_emit`). The sender
(:func:`send_one` enqueued on commit, :func:`send_due` every minute for retries) claims a
delivery with a conditional UPDATE, POSTs it outside any transaction and records the attempt;
failures are retried with back-off, then given up (已放弃), and an endpoint failing N times in a
row is disabled with a todo and a message for its creator. The signing secret is never logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.core.events.catalogue import event_types as catalogue_types
from credo.core.events.stream import Event
from credo.webhooks import signing, states, transport  # noqa: F401 — states registers the machine
from credo.webhooks.errors import EndpointDisabled, WebhookError
from credo.webhooks.models import ALL_EVENTS, WebhookAttempt, WebhookDelivery, WebhookEndpoint

S = WebhookDelivery.Status
TEST_EVENT = "webhook.test"
#: a delivery claimed longer ago than this belongs to a worker that died
STALE_SENDING = dt.timedelta(minutes=5)
AUDITED = (
    "name",
    "url",
    "description",
    "event_types",
    "enabled",
    "timeout_seconds",
    "max_attempts",
    "disable_after_failures",
)


# --- settings -----------------------------------------------------------------------------------
def backoff_minutes() -> list[int]:
    """Wait before retry n (1-based) = the n-th value; past the end, the last one."""
    values = [int(v) for v in getattr(settings, "CREDO_WEBHOOK_BACKOFF_MINUTES", []) if int(v) > 0]
    return values or [1, 5, 30, 120, 720]


def default_max_attempts() -> int:
    return int(getattr(settings, "CREDO_WEBHOOK_MAX_ATTEMPTS", 6))


def default_timeout() -> int:
    return int(getattr(settings, "CREDO_WEBHOOK_TIMEOUT", 10))


def default_disable_after() -> int:
    return int(getattr(settings, "CREDO_WEBHOOK_DISABLE_AFTER", 10))


def retry_delay(attempts: int) -> dt.timedelta:
    schedule = backoff_minutes()
    return dt.timedelta(minutes=schedule[min(max(attempts, 1), len(schedule)) - 1])


# --- validation ---------------------------------------------------------------------------------
def validate_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(_("推送地址必须是以 http:// 或 https:// 开头的完整网址。"))
    if parts.username or parts.password:
        raise WebhookError(_("推送地址中不能包含用户名或密码。"))
    try:
        address = ipaddress.ip_address(parts.hostname.strip("[]"))
    except ValueError:
        address = None
    if address is not None and (address.is_link_local or address.is_multicast):
        # 169.254.169.254 and the like: the cloud host's metadata service, never a receiver
        raise WebhookError(_("推送地址不能是链路本地或组播地址。"))
    return url


def event_type_choices() -> list[tuple[str, str]]:
    rows = sorted(catalogue_types, key=lambda et: (str(et.group), et.key))
    return [(et.key, f"{et.group} · {et.label}" if et.group else str(et.label)) for et in rows]


def validate_event_types(values: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(v) for v in values if v))
    if not chosen:
        raise WebhookError(_("请至少订阅一种事件。"))
    if ALL_EVENTS in chosen:
        return [ALL_EVENTS]
    known = {et.key for et in catalogue_types}
    unknown = [v for v in chosen if v not in known]
    if unknown:
        raise WebhookError(_("未知的事件类型：%(t)s") % {"t": "、".join(unknown)})
    return sorted(chosen)


def _limits(timeout_seconds: int, max_attempts: int, disable_after_failures: int) -> None:
    if not 1 <= timeout_seconds <= 60:
        raise WebhookError(_("超时必须在 1 到 60 秒之间。"))
    if not 1 <= max_attempts <= 20:
        raise WebhookError(_("最多尝试次数必须在 1 到 20 之间。"))
    if not 1 <= disable_after_failures <= 1000:
        raise WebhookError(_("连续失败自动停用次数必须在 1 到 1000 之间。"))


def _snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {k: getattr(endpoint, k) for k in AUDITED}


# --- endpoints ----------------------------------------------------------------------------------
@transaction.atomic
def endpoint_create(
    *,
    name: str,
    url: str,
    event_types: Iterable[str],
    actor: Any,
    description: str = "",
    timeout_seconds: int | None = None,
    max_attempts: int | None = None,
    disable_after_failures: int | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint with a new signing secret; returns it with the secret (shown once)."""
    name = (name or "").strip()
    if not name:
        raise WebhookError(_("请填写名称。"))
    if WebhookEndpoint.objects.filter(name=name).exists():
        raise WebhookError(_("名称“%(n)s”已被使用。") % {"n": name})
    timeout = timeout_seconds or default_timeout()
    attempts = max_attempts or default_max_attempts()
    disable_after = disable_after_failures or default_disable_after()
    _limits(timeout, attempts, disable_after)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint.objects.create(
        name=name,
        url=validate_url(url),
        description=(description or "").strip(),
        event_types=validate_event_types(event_types),
        secret=secret,
        timeout_seconds=timeout,
        max_attempts=attempts,
        disable_after_failures=disable_after,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        action="webhooks.endpoint_create",
        actor=actor,
        obj=endpoint,
        changes={k: {"old": None, "new": v} for k, v in _snapshot(endpoint).items()},
    )
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: Any,
    name: str,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    timeout_seconds: int,
    max_attempts: int,
    disable_after_failures: int,
) -> WebhookEndpoint:
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = _snapshot(locked)
    name = (name or "").strip()
    if not name:
        raise WebhookError(_("请填写名称。"))
    if WebhookEndpoint.objects.filter(name=name).exclude(pk=locked.pk).exists():
        raise WebhookError(_("名称“%(n)s”已被使用。") % {"n": name})
    _limits(timeout_seconds, max_attempts, disable_after_failures)
    locked.name = name
    locked.url = validate_url(url)
    locked.description = (description or "").strip()
    locked.event_types = validate_event_types(event_types)
    locked.timeout_seconds = timeout_seconds
    locked.max_attempts = max_attempts
    locked.disable_after_failures = disable_after_failures
    locked.save()
    after = _snapshot(locked)
    changes = {k: {"old": before[k], "new": v} for k, v in after.items() if before[k] != v}
    if changes:
        audit_record(action="webhooks.endpoint_update", actor=actor, obj=locked, changes=changes)
    return locked


@transaction.atomic
def endpoint_enable(*, endpoint: WebhookEndpoint, actor: Any) -> WebhookEndpoint:
    """Enable again: the failure count starts over and waiting retries are sent on schedule."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if locked.enabled:
        raise WebhookError(_("该端点已启用。"))
    locked.enabled = True
    locked.consecutive_failures = 0
    locked.disabled_reason = ""
    locked.disabled_at = None
    locked.save(
        update_fields=[
            "enabled",
            "consecutive_failures",
            "disabled_reason",
            "disabled_at",
            "updated_at",
        ]
    )
    audit_record(
        action="webhooks.endpoint_enable",
        actor=actor,
        obj=locked,
        changes={"enabled": {"old": False, "new": True}},
    )
    transaction.on_commit(enqueue_send_due)
    return locked


def _disable(locked: WebhookEndpoint, *, reason: str, now: dt.datetime) -> None:
    locked.enabled = False
    locked.disabled_reason = reason[:300]
    locked.disabled_at = now
    locked.save(update_fields=["enabled", "disabled_reason", "disabled_at", "updated_at"])


@transaction.atomic
def endpoint_disable(*, endpoint: WebhookEndpoint, actor: Any, reason: str = "") -> WebhookEndpoint:
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not locked.enabled:
        raise WebhookError(_("该端点已停用。"))
    _disable(locked, reason=(reason or "").strip() or _("管理员手动停用"), now=timezone.now())
    audit_record(
        action="webhooks.endpoint_disable",
        actor=actor,
        obj=locked,
        changes={"enabled": {"old": True, "new": False}},
        metadata={"reason": locked.disabled_reason},
    )
    return locked


@transaction.atomic
def endpoint_secret_reveal(*, endpoint: WebhookEndpoint, actor: Any) -> str:
    """The secret in clear, for an administrator configuring the receiver (audited read)."""
    audit_record(action="webhooks.endpoint_secret_reveal", actor=actor, obj=endpoint)
    return endpoint.secret


@transaction.atomic
def endpoint_secret_rotate(*, endpoint: WebhookEndpoint, actor: Any) -> str:
    """A new secret; requests are signed with it from now on (the old one stops working)."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = signing.new_secret()
    locked.secret = secret
    locked.save(update_fields=["secret", "updated_at"])
    audit_record(
        action="webhooks.endpoint_secret_rotate",
        actor=actor,
        obj=locked,
        metadata={"secrets_changed": ["secret"]},
    )
    return secret


# --- deliveries ---------------------------------------------------------------------------------
def _key(value: str) -> str:
    value = str(value)
    if len(value) <= 200:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    return loaded


def _new_delivery(
    endpoint: WebhookEndpoint,
    *,
    event_type: str,
    payload: dict[str, Any],
    key: str,
    actor: Any = None,
    redelivery_of: WebhookDelivery | None = None,
    is_test: bool = False,
) -> tuple[WebhookDelivery, bool]:
    """Create (or find, for an idempotency key already used) a delivery due now; the send is
    enqueued when the caller's transaction commits."""
    key = _key(key)
    existing = WebhookDelivery.objects.filter(endpoint=endpoint, idempotency_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint,
                idempotency_key=key,
                event_type=str(event_type)[:100],
                payload=_jsonable(payload),
                next_attempt_at=timezone.now(),
                created_by=actor if getattr(actor, "pk", None) else None,
                redelivery_of=redelivery_of,
                is_test=is_test,
            )
    except IntegrityError:  # a concurrent emit of the same key won
        return WebhookDelivery.objects.get(endpoint=endpoint, idempotency_key=key), False
    pk = delivery.pk
    transaction.on_commit(lambda: enqueue_send(pk))
    return delivery, True


def _usable(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise WebhookError(_("Webhook 端点不存在。"))
    if not endpoint.enabled:
        raise EndpointDisabled(_("Webhook 端点“%(n)s”已停用，不能投递。") % {"n": endpoint.name})
    return endpoint


@transaction.atomic
def webhook_emit(
    *, endpoint_id: int, event_type: str, payload: dict[str, Any], idempotency_key: str
) -> WebhookDelivery:
    """Queue ``payload`` for one endpoint (automations call this). A second call with the same
    idempotency key returns the first delivery; a disabled endpoint is refused."""
    endpoint = _usable(endpoint_id)
    delivery, _created = _new_delivery(
        endpoint, event_type=event_type, payload=payload, key=idempotency_key
    )
    return delivery


@transaction.atomic
def webhook_send_test(*, endpoint: WebhookEndpoint, actor: Any) -> WebhookDelivery:
    """发送测试事件: a ``webhook.test`` event, signed and logged like any other."""
    endpoint = _usable(endpoint.pk)
    key = f"test:{uuid.uuid4().hex}"
    now = timezone.now()
    payload = {
        "id": key,
        "seq": None,
        "type": TEST_EVENT,
        "occurred_at": now.isoformat(),
        "object": {
            "type": "webhooks.webhookendpoint",
            "id": str(endpoint.pk),
            "repr": endpoint.name,
        },
        "actor": {"id": getattr(actor, "pk", None), "name": str(actor or "")},
        "changes": {},
        "metadata": {"test": True, "message": str(_("这是一条测试事件。"))},
    }
    delivery, _created = _new_delivery(
        endpoint, event_type=TEST_EVENT, payload=payload, key=key, actor=actor, is_test=True
    )
    audit_record(
        action="webhooks.endpoint_test",
        actor=actor,
        obj=endpoint,
        metadata={"delivery": delivery.pk},
    )
    return delivery


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery, actor: Any) -> WebhookDelivery:
    """Send a logged delivery again (any status) as a new delivery with the same payload."""
    endpoint = _usable(delivery.endpoint_id)
    new, _created = _new_delivery(
        endpoint,
        event_type=delivery.event_type,
        payload=delivery.payload,
        key=f"redeliver:{delivery.pk}:{uuid.uuid4().hex}",
        actor=actor,
        redelivery_of=delivery,
        is_test=delivery.is_test,
    )
    audit_record(
        action="webhooks.delivery_redeliver",
        actor=actor,
        obj=delivery,
        metadata={"new_delivery": new.pk, "endpoint": endpoint.pk},
    )
    return new


# --- the event stream consumer ------------------------------------------------------------------
def subscribed_actions() -> list[str]:
    """The event types any enabled endpoint wants (``all`` = the whole catalogue: reads, logins
    and configuration changes are audit rows, not events, and are never pushed)."""
    wanted: set[str] = set()
    for types in WebhookEndpoint.objects.filter(enabled=True).values_list("event_types", flat=True):
        types = list(types or [])
        if ALL_EVENTS in types:
            return sorted(et.key for et in catalogue_types)
        wanted.update(types)
    return sorted(wanted)


def handle_events(events: list[Event]) -> int:
    """Consumer of the event stream: one delivery per event and subscribed endpoint, inserted in
    bulk (a batch handed over twice inserts nothing twice); the sender runs after commit."""
    endpoints = list(WebhookEndpoint.objects.filter(enabled=True).only("id", "event_types"))
    if not endpoints or not events:
        return 0
    catalogue_keys = {et.key for et in catalogue_types}
    now = timezone.now()
    rows = []
    for event in events:
        payload: dict[str, Any] | None = None
        for endpoint in endpoints:
            wanted = (
                event.action in catalogue_keys
                if endpoint.takes_all
                else event.action in (endpoint.event_types or [])
            )
            if not wanted:
                continue
            if payload is None:
                payload = _jsonable(event.as_payload())
            rows.append(
                WebhookDelivery(
                    endpoint_id=endpoint.pk,
                    idempotency_key=event.key,
                    event_type=event.action[:100],
                    payload=payload,
                    next_attempt_at=now,
                )
            )
    if rows:
        WebhookDelivery.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
        transaction.on_commit(enqueue_send_due)
    return len(rows)


# --- sending ------------------------------------------------------------------------------------
def enqueue_send(delivery_id: int) -> None:
    from credo.webhooks.tasks import send_delivery

    send_delivery.enqueue(delivery_id)


def enqueue_send_due() -> None:
    from credo.webhooks.tasks import send_due as task

    task.enqueue()


def _due(now: dt.datetime) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(
        status__in=[S.PENDING, S.FAILED], next_attempt_at__lte=now, endpoint__enabled=True
    )


def _claim(qs: QuerySet[WebhookDelivery], now: dt.datetime, limit: int) -> list[int]:
    """Mark up to ``limit`` due deliveries 发送中 under a fresh token; returns the claimed ids.
    Several workers: PostgreSQL skips rows another claimer holds; everywhere the conditional
    UPDATE (status still pending/failed) decides who owns a row."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        candidates = qs.order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        fsm.transition_queryset(
            WebhookDelivery.objects.filter(pk__in=ids),
            S.SENDING,
            sources=[S.PENDING, S.FAILED],
            claim_token=token,
            claimed_at=now,
        )
    return list(
        WebhookDelivery.objects.filter(claim_token=token, status=S.SENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )


def release_stale(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return fsm.transition_queryset(
        WebhookDelivery.objects.filter(claimed_at__lt=now - STALE_SENDING),
        S.PENDING,
        sources=[S.SENDING],
        claim_token="",
        next_attempt_at=now,
        error=_("上次发送中断，已重新排队。"),
    )


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(
        payload, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def _deliver(delivery_id: int) -> str:
    """POST one claimed delivery and record the outcome. Outside any transaction."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    token = delivery.claim_token
    body = body_bytes(delivery.payload)
    timestamp = int(time.time())
    headers = signing.request_headers(
        secret=endpoint.secret,
        event_type=delivery.event_type,
        delivery_id=delivery.pk,
        timestamp=timestamp,
        body=body,
    )
    started = timezone.now()
    response = transport.post(endpoint.url, body, headers, endpoint.timeout_seconds)
    return _record(delivery_id, token, headers, started, response)


def _error_text(response: transport.Response) -> str:
    if response.error:
        return response.error
    if not response.ok:
        return _("接收方返回 HTTP %(c)s。") % {"c": response.code}
    return ""


@transaction.atomic
def _record(
    delivery_id: int,
    token: str,
    headers: dict[str, str],
    started: dt.datetime,
    response: transport.Response,
) -> str:
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .filter(pk=delivery_id, claim_token=token, status=S.SENDING)
        .first()
    )
    if delivery is None:  # released as stale meanwhile: that run owns it now
        return "lost"
    now = timezone.now()
    delivery.attempts += 1
    error = _error_text(response)
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        started_at=started,
        duration_ms=response.duration_ms,
        request_headers=headers,
        response_code=response.code,
        response_body=response.body,
        error=error[:500],
        ok=response.ok,
    )
    delivery.response_code = response.code
    delivery.response_body = response.body
    delivery.duration_ms = response.duration_ms
    delivery.error = error[:500]
    delivery.claim_token = ""
    fields = [
        "attempts",
        "response_code",
        "response_body",
        "duration_ms",
        "error",
        "claim_token",
        "next_attempt_at",
        "delivered_at",
        "updated_at",
    ]
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    if response.ok:
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        fsm.transition(delivery, S.SUCCEEDED, update_fields=fields)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            consecutive_failures=0, last_success_at=now
        )
        return str(S.SUCCEEDED)
    if delivery.attempts >= endpoint.max_attempts:
        delivery.next_attempt_at = None
        fsm.transition(delivery, S.DEAD, update_fields=fields)
        outcome = str(S.DEAD)
    else:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        fsm.transition(delivery, S.FAILED, update_fields=fields)
        outcome = str(S.FAILED)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1, last_failure_at=now
    )
    endpoint.refresh_from_db()
    if endpoint.enabled and endpoint.consecutive_failures >= endpoint.disable_after_failures:
        _auto_disable(endpoint, error=error, now=now)
    return outcome


def _auto_disable(endpoint: WebhookEndpoint, *, error: str, now: dt.datetime) -> None:
    """N failures in a row: stop pushing, tell the creator (todo + message), audit."""
    n = endpoint.consecutive_failures
    reason = _("连续 %(n)s 次推送失败，已自动停用。最近错误：%(e)s") % {"n": n, "e": error}
    _disable(endpoint, reason=reason, now=now)
    audit_record(
        action="webhooks.endpoint_auto_disable",
        obj=endpoint,
        changes={"enabled": {"old": True, "new": False}},
        metadata={"consecutive_failures": n, "error": error[:300]},
    )
    user = endpoint.created_by
    if user is None or not user.is_active:
        return
    from credo.core.todo.models import Todo
    from credo.core.todo.services import todo_create
    from credo.notify.services import notify

    url = reverse("webhooks:endpoint_detail", args=[endpoint.pk])
    todo_create(
        user=user,
        title=_("Webhook 端点“%(n)s”已自动停用") % {"n": endpoint.name},
        description=reason,
        url=url,
        source="webhooks",
        priority=Todo.Priority.HIGH,
        dedupe_key=f"webhooks.disabled:{endpoint.pk}",
    )
    notify(
        template="webhooks.endpoint_disabled",
        context={"name": endpoint.name, "failures": n, "error": error[:200]},
        user=user,
        channel="inapp",
        url=url,
        dedupe_key=f"webhooks.disabled:{endpoint.pk}:{now.isoformat()}",
    )


def send_one(delivery_id: int) -> str:
    """Send one delivery if it is due (enqueued on commit when it is created)."""
    now = timezone.now()
    claimed = _claim(_due(now).filter(pk=delivery_id), now, 1)
    if not claimed:
        return "skipped"
    return _deliver(claimed[0])


def send_due(
    *, now: dt.datetime | None = None, limit: int = 100, budget_seconds: float = 50
) -> dict[str, int]:
    """Every minute: requeue deliveries of dead workers, then send what is due (new ones and
    retries whose back-off has passed) until none is left or the time budget is spent."""
    now = now or timezone.now()
    counts: dict[str, int] = {"released": release_stale(now)}
    deadline = time.monotonic() + budget_seconds
    while time.monotonic() < deadline:
        ids = _claim(_due(now), now, limit)
        if not ids:
            break
        for pk in ids:
            outcome = _deliver(pk)
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts
