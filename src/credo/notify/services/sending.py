"""The sender: claim due messages, deliver them through the gateways outside any transaction,
record the attempt and retry with exponential backoff."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import fsm
from credo.notify import guardrails, states  # noqa: F401 — registers the machine
from credo.notify.errors import (
    GatewayError,
)
from credo.notify.models import (
    Attempt,
    Kind,
    Message,
)
from credo.notify.selectors import forget_unread
from credo.notify.services.config import (
    backoff_minutes,
    max_attempts,
    quiet_categories,
    quiet_tz,
    quiet_window,
)
from credo.notify.services.recipients import STALE_SENDING


# --- sending ------------------------------------------------------------------------------------
def _claim(ids_qs: Any, now: dt.datetime, limit: int) -> list[int]:
    """Mark up to ``limit`` due messages SENDING under a fresh token; returns the claimed ids.
    Safe with several workers: PostgreSQL skips rows locked by another claimer; everywhere the
    conditional UPDATE (status still QUEUED) decides who owns a row."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        qs = ids_qs.order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        fsm.transition_queryset(
            Message.objects.filter(pk__in=ids),
            Message.Status.SENDING,
            sources=[Message.Status.QUEUED],
            claimed_at=now,
            claim_token=token,
        )
    return list(
        Message.objects.filter(claim_token=token).order_by("id").values_list("id", flat=True)
    )


def _due(now: dt.datetime) -> Any:
    return Message.objects.filter(status=Message.Status.QUEUED, next_attempt_at__lte=now)


def release_stale(now: dt.datetime) -> int:
    """A worker that died mid-send leaves SENDING rows: queue them again (never lost)."""
    return fsm.transition_queryset(
        Message.objects.filter(claimed_at__lt=now - STALE_SENDING),
        Message.Status.QUEUED,
        sources=[Message.Status.SENDING],
        next_attempt_at=now,
        claim_token="",
        last_error=_("上次发送中断，已重新排队。"),
    )


def send_due(
    *, now: dt.datetime | None = None, limit: int = 200, budget_seconds: float = 50
) -> dict[str, int]:
    """Send due messages in batches of ``limit`` until none is due or the time budget (below
    the one-minute schedule) is spent; returns counts by outcome."""
    now = now or timezone.now()
    release_stale(now)
    counts: dict[str, int] = {}
    started = time.monotonic()
    while True:
        claimed = _claim(_due(now), now, limit)
        for pk in claimed:
            outcome = _deliver_claimed(pk, now)
            counts[outcome] = counts.get(outcome, 0) + 1
        if len(claimed) < limit or time.monotonic() - started > budget_seconds:
            return counts


def send_one(message_id: int, *, now: dt.datetime | None = None) -> str:
    """Send one message now if it is due and nobody else claimed it (the on-commit path)."""
    now = now or timezone.now()
    claimed = _claim(_due(now).filter(pk=message_id), now, 1)
    if not claimed:
        return "skipped"
    return _deliver_claimed(claimed[0], now)


def _deliver_claimed(pk: int, now: dt.datetime) -> str:
    from credo.notify import gateways

    msg = Message.objects.select_related("channel", "user").get(pk=pk)
    token = msg.claim_token
    if msg.kind != Kind.INAPP and msg.category in quiet_categories():
        until = guardrails.quiet_until(now, quiet_window(), quiet_tz())
        if until is not None:  # e.g. a retry that fell into the night: wait, no attempt used
            fsm.transition_queryset(
                Message.objects.filter(pk=pk, claim_token=token),
                Message.Status.QUEUED,
                sources=[Message.Status.SENDING],
                next_attempt_at=until,
                claim_token="",
            )
            return "deferred"
    channel = msg.channel
    number = msg.attempts + 1
    error: GatewayError | None = None
    delivery = None
    started = time.monotonic()
    try:
        delivery = gateways.deliver(channel, msg)
    except GatewayError as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 — a bug in a gateway must not leave the row SENDING forever
        error = GatewayError(f"{type(exc).__name__}: {exc}")
    finished = now + dt.timedelta(seconds=round(time.monotonic() - started, 3))
    with transaction.atomic():
        Attempt.objects.create(
            message=msg,
            number=number,
            channel_name=channel.name if channel else "",
            started_at=now,
            finished_at=finished,
            ok=error is None,
            error=error.message[:2000] if error else "",
            response=(delivery.response if delivery else (error.response if error else ""))[:2000],
        )
        fields: dict[str, Any] = {"attempts": number, "claim_token": ""}
        if error is None:
            assert delivery is not None
            target = Message.Status.SENT
            fields.update(
                sent_at=now,
                next_attempt_at=None,
                provider_message_id=delivery.provider_message_id[:200],
                last_error="",
            )
            outcome = "sent"
            if msg.kind == Kind.INAPP:
                forget_unread([msg.user_id])
        elif error.permanent or number >= max_attempts():
            target = Message.Status.FAILED
            fields.update(next_attempt_at=None, last_error=error.message)
            outcome = "failed"
        else:
            target = Message.Status.QUEUED
            fields.update(
                next_attempt_at=now + guardrails.backoff_delay(number, backoff_minutes()),
                last_error=error.message,
            )
            outcome = "retry"
        # The claim token proves the row is still ours (and 发送中).
        fsm.transition_queryset(
            Message.objects.filter(pk=pk, claim_token=token),
            target,
            sources=[Message.Status.SENDING],
            **fields,
        )
    return outcome
