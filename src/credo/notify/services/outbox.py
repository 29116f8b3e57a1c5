"""Writing the outbox: :func:`notify` (queue messages under the guardrails), test sends, and
the people's actions on a message (retry, cancel, mark read) and on preferences."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.notify import states
from credo.notify.errors import (
    InvalidRecipient,
    InvalidState,
)
from credo.notify.models import (
    Category,
    Channel,
    Kind,
    Message,
)
from credo.notify.selectors import forget_unread
from credo.notify.services.bulk import Notice, notify_one
from credo.notify.services.channels import channel_for
from credo.notify.services.recipients import (
    enqueue_send,
    mask_address,
)
from credo.notify.services.templates import render, template_get, template_spec


# --- notify -------------------------------------------------------------------------------------
def notify(
    *,
    template: str,
    context: dict[str, Any],
    user: Any = None,
    customer: Any = None,
    channel: str | None = None,
    dedupe_key: str | None = None,
    actor: Any = None,
    category: str = "service",
    send_after: dt.datetime | None = None,
    url: str = "",
    now: dt.datetime | None = None,
    attachments: list[dict[str, str]] | None = None,
) -> list[Message]:
    """Queue a message from ``template`` to a staff ``user``, a borrower ``customer`` or (for
    WeCom/DingTalk) the group. Returns the messages (queued, sent in-app, or suppressed with the
    reason). With ``dedupe_key`` a second call returns the first call's messages.

    One notice through :func:`credo.notify.services.bulk.notify_many`'s batch path (the
    guardrails exist once); refusals raise :class:`~credo.notify.errors.NotifyError`."""
    notice = Notice(
        template=template,
        context=context,
        user=user,
        customer=customer,
        channel=channel,
        dedupe_key=dedupe_key,
        url=url,
        send_after=send_after,
        attachments=attachments,
    )
    return notify_one(notice, actor=actor, category=category, now=now or timezone.now())


@transaction.atomic
def message_send_test(
    *,
    channel: Channel,
    actor: Any,
    address: str = "",
    template_code: str = "notify.test",
    context: dict[str, Any] | None = None,
) -> Message:
    """A test message through exactly ``channel`` (it shows in the outbox like any other)."""
    from credo.notify.models import KIND_FOR_ENGINE

    tpl = template_get(template_code)
    ctx = {"name": getattr(actor, "display_name", "") or getattr(actor, "username", "")}
    spec = template_spec(template_code)
    if spec:
        ctx.update(spec.sample)
    ctx.update(context or {})
    subject, body = render(tpl.subject, tpl.body, ctx)
    address = (address or "").strip()
    kind: str
    if channel.engine == Channel.Engine.SIMULATED:
        # The simulated channel stands in for whatever the address looks like.
        if "@" in address:
            kind = Kind.EMAIL
        elif address:
            kind = Kind.SMS
        else:
            kind = Kind.INAPP
    else:
        kind = KIND_FOR_ENGINE[channel.engine]
    user = None
    if kind == Kind.INAPP:
        user = actor
    elif kind in (Kind.SMS, Kind.EMAIL) and not address:
        raise InvalidRecipient(_("请填写测试接收地址（手机号或邮箱）。"))
    now = timezone.now()
    msg = Message.objects.create(
        template_code=tpl.code,
        kind=kind,
        channel=channel,
        category=Category.SERVICE,
        user=user,
        address=address,
        address_masked=mask_address(kind, address),
        subject=subject[:200],
        body=body,
        params={k: v for k, v in ctx.items() if isinstance(v, str | int | float | bool)},
        scheduled_at=now,
        next_attempt_at=now,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=now,
    )
    audit_record(
        action="notify.test_send",
        actor=actor,
        obj=msg,
        metadata={"channel": channel.name, "template": tpl.code},
    )
    transaction.on_commit(lambda: enqueue_send(msg.pk))
    return msg


# --- outbox actions -----------------------------------------------------------------------------
@transaction.atomic
def message_retry(*, message: Message, actor: Any, now: dt.datetime | None = None) -> Message:
    """Queue a failed (or cancelled) message again with a fresh attempt budget."""
    now = now or timezone.now()
    locked = Message.objects.select_for_update().get(pk=message.pk)
    if locked.status not in states.RETRYABLE:
        raise InvalidState(_("只有发送失败或已取消的消息可以重试。"))
    if locked.kind != Kind.INAPP and (locked.channel is None or not locked.channel.enabled):
        locked.channel = channel_for(locked.kind)
        if locked.channel is None:
            raise InvalidState(
                _("未配置可用的%(k)s渠道，请先配置渠道。") % {"k": Kind(locked.kind).label}
            )
    before = locked.status
    locked.attempts = 0
    locked.next_attempt_at = now
    locked.claim_token = ""
    fsm.transition(locked, Message.Status.QUEUED, save=False)
    locked.save()
    audit_record(
        action="notify.message_retry",
        actor=actor,
        obj=locked,
        changes={"status": [before, locked.status]},
    )
    transaction.on_commit(lambda: enqueue_send(locked.pk))
    return locked


@transaction.atomic
def message_cancel(*, message: Message, actor: Any) -> Message:
    locked = Message.objects.select_for_update().get(pk=message.pk)
    if locked.status not in states.CANCELLABLE:
        raise InvalidState(_("只有排队中或发送失败的消息可以取消。"))
    before = locked.status
    locked.next_attempt_at = None
    fsm.transition(locked, Message.Status.CANCELLED, update_fields=("next_attempt_at",))
    audit_record(
        action="notify.message_cancel",
        actor=actor,
        obj=locked,
        changes={"status": [before, locked.status]},
    )
    return locked


def message_mark_read(*, message: Message, user: Any, now: dt.datetime | None = None) -> Message:
    """Mark one of the user's own in-app messages read (idempotent)."""
    if message.user_id != getattr(user, "pk", None) or message.kind != Kind.INAPP:
        raise InvalidRecipient(_("只能标记自己的站内消息。"))
    if message.read_at is None:
        message.read_at = now or timezone.now()
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=message.read_at)
        forget_unread([message.user_id])
    return message


def inbox_mark_all_read(*, user: Any, now: dt.datetime | None = None) -> int:
    n = Message.objects.filter(
        user=user, kind=Kind.INAPP, status=Message.Status.SENT, read_at__isnull=True
    ).update(read_at=now or timezone.now())
    forget_unread([user.pk])
    return n
