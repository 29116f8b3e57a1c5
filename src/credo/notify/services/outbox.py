"""Writing the outbox: :func:`notify` (queue messages under the guardrails), test sends, and
the people's actions on a message (retry, cancel, mark read) and on preferences."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.notify import guardrails, states
from credo.notify.errors import (
    InvalidRecipient,
    InvalidState,
)
from credo.notify.models import (
    Category,
    Channel,
    Kind,
    Message,
    MessageTemplate,
)
from credo.notify.services.channels import channel_for, simulated_channel
from credo.notify.services.config import daily_caps, quiet_categories, quiet_tz, quiet_window
from credo.notify.services.recipients import (
    ACTIVE,
    DO_NOT_CONTACT_FLAG,
    GROUP_KINDS,
    address_for,
    enqueue_send,
    kinds_for,
    local_day_bounds,
    mask_address,
    normalize_channel,
    preference_for,
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
    reason). With ``dedupe_key`` a second call returns the first call's messages."""
    now = now or timezone.now()
    if user is not None and customer is not None:
        raise InvalidRecipient(_("一条消息只能有一个接收人。"))
    if category not in Category.values:
        raise InvalidRecipient(_("未知的消息类别：%(c)s") % {"c": category})
    explicit, force_sim = normalize_channel(channel)
    if user is None and customer is None and explicit not in (None, *GROUP_KINDS):
        raise InvalidRecipient(_("没有接收人时只能发送到群机器人。"))
    if explicit == Kind.INAPP and user is None:
        raise InvalidRecipient(_("站内消息只能发给员工。"))
    if dedupe_key:
        existing = list(Message.objects.filter(dedupe_key=dedupe_key).order_by("id"))
        if existing:
            return existing
    tpl = template_get(template)
    subject, body = render(tpl.subject, tpl.body, context)
    params = {k: v for k, v in context.items() if isinstance(v, str | int | float | bool)}
    try:
        with transaction.atomic():
            return _create_messages(
                tpl=tpl,
                subject=subject,
                body=body,
                params=params,
                user=user,
                customer=customer,
                explicit=explicit,
                force_sim=force_sim,
                dedupe_key=dedupe_key,
                actor=actor,
                category=category,
                send_after=send_after,
                url=url or str(context.get("url", "") or ""),
                now=now,
                attachments=attachments or [],
            )
    except IntegrityError:
        if dedupe_key:  # a concurrent call with the same key won
            return list(Message.objects.filter(dedupe_key=dedupe_key).order_by("id"))
        raise


def _create_messages(
    *,
    tpl: MessageTemplate,
    subject: str,
    body: str,
    params: dict[str, Any],
    user: Any,
    customer: Any,
    explicit: str | None,
    force_sim: bool,
    dedupe_key: str | None,
    actor: Any,
    category: str,
    send_after: dt.datetime | None,
    url: str,
    now: dt.datetime,
    attachments: list[dict[str, str]] | None = None,
) -> list[Message]:
    pref = None
    if user is not None or customer is not None:
        pref = preference_for(user=user, customer=customer, lock=True)
    kinds = kinds_for(tpl, user=user, customer=customer, explicit=explicit, pref=pref)
    if not kinds:
        raise InvalidRecipient(_("模板“%(n)s”没有可用的渠道。") % {"n": tpl.name})
    window, tz = quiet_window(), quiet_tz()
    created: list[Message] = []
    for kind in kinds:
        address = address_for(kind, user=user, customer=customer, pref=pref)
        scheduled = max(now, send_after) if send_after else now
        suppressed = _suppressed_reason(
            kind=kind, category=category, user=user, customer=customer, pref=pref, address=address
        )
        if not suppressed and kind != Kind.INAPP and category in quiet_categories():
            until = guardrails.quiet_until(scheduled, window, tz)
            if until is not None:
                scheduled = until  # deferred, never dropped
        if not suppressed and kind != Kind.INAPP:
            suppressed = _over_daily_cap(
                kind=kind, category=category, user=user, customer=customer, scheduled=scheduled
            )
        chan = simulated_channel() if force_sim else channel_for(kind)
        msg = Message(
            template_code=tpl.code,
            kind=kind,
            channel=chan,
            category=category,
            user=user,
            customer=customer,
            address=address,
            address_masked=mask_address(kind, address),
            subject=subject[:200],
            body=body,
            params=params,
            url=url[:500],
            attachments=list(attachments or []) if kind == Kind.EMAIL else [],
            dedupe_key=dedupe_key,
            scheduled_at=scheduled,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=now,
            **_initial_state(
                kind=kind, chan=chan, suppressed=suppressed, scheduled=scheduled, now=now
            ),
        )
        msg.save()
        created.append(msg)
        if suppressed:
            audit_record(
                action="notify.suppressed",
                actor=actor,
                obj=msg,
                metadata={"reason": msg.suppressed_reason, "template": tpl.code, "kind": kind},
            )
        if customer is not None:
            _timeline(msg, actor=actor)
        if msg.status == Message.Status.QUEUED and scheduled <= now:
            transaction.on_commit(functools.partial(enqueue_send, msg.pk))
    return created


def _suppressed_reason(
    *, kind: str, category: str, user: Any, customer: Any, pref: Any, address: str
) -> str:
    """Why a message to this recipient is not sent at all ("" = it is sent)."""
    if customer is not None and DO_NOT_CONTACT_FLAG in (customer.risk_flags or []):
        return _("客户已登记“勿联系”，消息未发送。")
    if pref is not None and category in (pref.opted_out or []):
        return _("接收人已拒收“%(c)s”类消息。") % {"c": Category(category).label}
    if kind != Kind.INAPP and not address and (user is not None or customer is not None):
        return _("接收人没有可用的%(k)s地址。") % {"k": Kind(kind).label}
    return ""


def _over_daily_cap(
    *, kind: str, category: str, user: Any, customer: Any, scheduled: dt.datetime
) -> str:
    """The daily cap reason when the recipient already has ``cap`` messages that day, else ""."""
    cap = daily_caps().get(category, 0)
    if not cap or (user is None and customer is None):
        return ""
    start, end = local_day_bounds(scheduled)
    sent_today = Message.objects.filter(
        user=user,
        customer=customer,
        category=category,
        kind=kind,
        status__in=ACTIVE,
        scheduled_at__gte=start,
        scheduled_at__lt=end,
    ).count()
    if sent_today < cap:
        return ""
    return _("超过每日上限：%(cat)s类%(kind)s每位接收人每天最多 %(n)s 条。") % {
        "cat": Category(category).label,
        "kind": Kind(kind).label,
        "n": cap,
    }


def _initial_state(
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


def _timeline(msg: Message, *, actor: Any) -> None:
    from credo.customers.events import record_event

    assert msg.customer is not None
    record_event(
        customer=msg.customer,
        kind="collection" if msg.category == Category.COLLECTION else "other",
        title=f"{Kind(msg.kind).label}：{msg.subject or msg.body[:40]}（{msg.get_status_display()}）",
        actor=actor,
        obj=msg,
        source="notify",
        detail={
            "template": msg.template_code,
            "status": msg.status,
            "to": msg.address_masked,
            "reason": msg.suppressed_reason,
        },
    )


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
    return message


def inbox_mark_all_read(*, user: Any, now: dt.datetime | None = None) -> int:
    return Message.objects.filter(
        user=user, kind=Kind.INAPP, status=Message.Status.SENT, read_at__isnull=True
    ).update(read_at=now or timezone.now())
