"""The rows a batch of notices writes (:mod:`credo.notify.services.bulk`): the messages (one bulk
insert), the counts of the result, the audit row of the suppressions, the customers' timeline
(one bulk insert) and, after commit, one sender kick."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.notify.models import Category, Channel, Kind, Message
from credo.notify.selectors import forget_unread
from credo.notify.services.bulk_guardrails import ChannelCache, Plan
from credo.notify.services.recipients import enqueue_send, mask_address

if TYPE_CHECKING:
    from credo.notify.services.bulk import BulkResult


def write_messages(
    plans: list[Plan],
    channels: ChannelCache,
    *,
    actor: Any,
    category: str,
    now: dt.datetime,
    strict: bool,
    messages_for: dict[int, list[Message]],
) -> list[Message]:
    """The outbox rows, one bulk insert (ids set on PostgreSQL and SQLite)."""
    created_by_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    messages: list[Message] = []
    for plan in plans:
        it, notice = plan.item, plan.item.notice
        assert it.template is not None
        chan = channels.simulated() if it.force_sim else channels.get(plan.kind)
        params = {
            k: v for k, v in notice.context.items() if isinstance(v, str | int | float | bool)
        }
        url = notice.url or str(notice.context.get("url", "") or "")
        msg = Message(
            template_code=it.template.code,
            kind=plan.kind,
            channel_id=chan.pk if chan is not None else None,
            category=category,
            user_id=notice.user.pk if notice.user is not None else None,
            customer_id=notice.customer.pk if notice.customer is not None else None,
            address=plan.address,
            address_masked=mask_address(plan.kind, plan.address),
            subject=it.subject[:200],
            body=it.body,
            params=params,
            url=url[:500],
            attachments=list(notice.attachments or []) if plan.kind == Kind.EMAIL else [],
            dedupe_key=notice.dedupe_key,
            scheduled_at=plan.scheduled,
            created_by_id=created_by_id,
            created_at=now,
            **initial_state(
                kind=plan.kind,
                chan=chan,
                suppressed=plan.suppressed,
                scheduled=plan.scheduled,
                now=now,
            ),
        )
        if strict:  # the caller gets the instances it passed, as before
            msg.channel, msg.user, msg.customer = chan, notice.user, notice.customer
        messages.append(msg)
        messages_for.setdefault(it.index, []).append(msg)
    if messages:
        Message.objects.bulk_create(messages, batch_size=1000)
        forget_unread(
            m.user_id for m in messages if m.kind == Kind.INAPP and m.status == Message.Status.SENT
        )
    return messages


def initial_state(
    *, kind: str, chan: Channel | None, suppressed: str, scheduled: dt.datetime, now: dt.datetime
) -> dict[str, Any]:
    """The state a new message is created in (one of ``states.MESSAGE_MACHINE.initial``)."""
    if suppressed:
        return {
            "status": Message.Status.SUPPRESSED,
            "suppressed_reason": suppressed[:300],
            "next_attempt_at": None,
        }
    if kind == Kind.INAPP and chan is None and scheduled <= now:
        return {"status": Message.Status.SENT, "sent_at": now, "next_attempt_at": None}
    if chan is None and kind != Kind.INAPP:
        return {
            "status": Message.Status.FAILED,
            "last_error": _("未配置可用的%(k)s渠道，请在“通知渠道”中配置后重试。")
            % {"k": Kind(kind).label},
            "next_attempt_at": None,
        }
    return {"status": Message.Status.QUEUED, "next_attempt_at": scheduled}


def count_messages(r: BulkResult, messages: list[Message], plans: list[Plan]) -> None:
    for msg, plan in zip(messages, plans, strict=True):
        r.created += 1
        r.message_ids.append(msg.pk)
        if msg.status == Message.Status.QUEUED:
            r.queued += 1
        elif msg.status == Message.Status.SENT:
            r.sent += 1
        elif msg.status == Message.Status.SUPPRESSED:
            r.suppressed += 1
            r.suppressed_by_reason[plan.reason_key] = (
                r.suppressed_by_reason.get(plan.reason_key, 0) + 1
            )
        elif msg.status == Message.Status.FAILED:
            r.failed += 1


def audit_suppressions(
    messages: list[Message], plans: list[Plan], *, actor: Any, category: str
) -> None:
    suppressed = [(m, p) for m, p in zip(messages, plans, strict=True) if p.suppressed and m.pk]
    if not suppressed:
        return
    if len(suppressed) == 1:
        msg, _plan = suppressed[0]
        audit_record(
            action="notify.suppressed",
            actor=actor,
            obj=msg,
            metadata={
                "reason": msg.suppressed_reason,
                "template": msg.template_code,
                "kind": msg.kind,
            },
        )
        return
    by_reason: dict[str, int] = {}
    for _m, plan in suppressed:
        by_reason[plan.reason_key] = by_reason.get(plan.reason_key, 0) + 1
    templates = sorted({m.template_code for m, _p in suppressed})
    audit_record(
        action="notify.suppressed_batch",
        actor=actor,
        object_type=Message._meta.label_lower,
        object_id="",
        object_repr=_("%(n)s 条消息被拦截") % {"n": len(suppressed)},
        metadata={
            "count": len(suppressed),
            "by_reason": by_reason,
            "template": templates[0] if len(templates) == 1 else templates,
            "category": category,
            "kinds": sorted({m.kind for m, _p in suppressed}),
            "message_ids": [m.pk for m, _p in suppressed],
        },
    )


def record_timeline(messages: list[Message], *, actor: Any) -> None:
    from credo.customers.events import record_events_bulk

    labels: dict[str, str] = {}  # the kind and status labels, translated once per batch

    def label(choices: type[Kind] | type[Message.Status], value: str) -> str:
        key = f"{choices.__name__}:{value}"
        if key not in labels:
            labels[key] = str(choices(value).label)
        return labels[key]

    events = [
        {
            "customer_id": msg.customer_id,
            "kind": "collection" if msg.category == Category.COLLECTION else "other",
            "title": (
                f"{label(Kind, msg.kind)}：{msg.subject or msg.body[:40]}"
                f"（{label(Message.Status, msg.status)}）"
            ),
            "actor": actor,
            "obj": msg,
            "source": "notify",
            "detail": {
                "template": msg.template_code,
                "status": msg.status,
                "to": msg.address_masked,
                "reason": msg.suppressed_reason,
            },
        }
        for msg in messages
        if msg.customer_id is not None
    ]
    if events:
        record_events_bulk(events)


def kick_sender(due_ids: list[int]) -> None:
    """After commit: one task, never one per message. A single due message is sent by id (the
    latency of an interactive notification); more are claimed in batches by ``send_due``."""
    if len(due_ids) == 1:
        enqueue_send(due_ids[0])
    else:
        enqueue_send_due()


def enqueue_send_due() -> None:
    from django_tasks import default_task_backend

    from credo.notify.tasks import send_due

    task = send_due
    if "notify" in getattr(default_task_backend, "queues", set()):
        task = task.using(queue_name="notify")
    task.enqueue()
