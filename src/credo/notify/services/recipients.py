"""Recipients: preferences, addresses and the kinds of message each recipient gets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.core.masking import mask
from credo.notify.errors import (
    InvalidRecipient,
)
from credo.notify.models import (
    Category,
    Channel,
    Kind,
    Message,
    MessageTemplate,
    NotifyPreference,
)
from credo.notify.services.channels import channel_for
from credo.notify.services.config import quiet_tz

STAFF_KINDS = (Kind.INAPP, Kind.EMAIL, Kind.WECOM, Kind.DINGTALK)
CUSTOMER_KINDS = (Kind.SMS, Kind.EMAIL)
GROUP_KINDS = (Kind.WECOM, Kind.DINGTALK)
ACTIVE = (Message.Status.QUEUED, Message.Status.SENDING, Message.Status.SENT)
STALE_SENDING = dt.timedelta(minutes=15)
DO_NOT_CONTACT_FLAG = "do_not_contact"
KIND_VALUES = frozenset(Kind.values)


# --- recipients ---------------------------------------------------------------------------------
def preference_for(
    *, user: Any = None, customer: Any = None, lock: bool = False
) -> NotifyPreference:
    lookup = {"customer": customer} if customer is not None else {"user": user}
    pref = NotifyPreference.objects.filter(**lookup).first()
    if pref is None:
        try:
            with transaction.atomic():
                pref = NotifyPreference.objects.create(**lookup)
        except IntegrityError:
            pref = NotifyPreference.objects.get(**lookup)
    if lock:
        # Serialises notify() per recipient so two concurrent calls cannot both pass the cap.
        pref = NotifyPreference.objects.select_for_update().get(pk=pref.pk)
    return pref


def address_for(kind: str, *, user: Any, customer: Any, pref: NotifyPreference | None) -> str:
    if kind == Kind.INAPP:
        return ""
    if customer is not None:
        if kind == Kind.SMS:
            return (customer.phone or (pref.mobile if pref else "") or "").strip()
        if kind == Kind.EMAIL:
            return (getattr(customer, "email", "") or (pref.email if pref else "") or "").strip()
        return ""
    if user is not None:
        if kind == Kind.EMAIL:
            return (user.email or (pref.email if pref else "") or "").strip()
        if kind in GROUP_KINDS:
            return (pref.mobile if pref else "") or ""  # @-mention in the group, optional
    return ""


def mask_address(kind: str, address: str) -> str:
    if not address:
        return ""
    if kind == Kind.SMS or (kind in GROUP_KINDS):
        return mask("phone", address)
    if kind == Kind.EMAIL and "@" in address:
        local, domain = address.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return mask("all", address)


def normalize_channel(channel: str | None) -> tuple[str | None, bool]:
    """(logical kind or None, force simulated)."""
    if channel is None or channel == "":
        return None, False
    if channel == Channel.Engine.SIMULATED:
        return None, True
    aliases = {
        "sms_http": Kind.SMS,
        "wecom_bot": Kind.WECOM,
        "dingtalk_bot": Kind.DINGTALK,
    }
    kind = aliases.get(channel, channel)
    if kind not in KIND_VALUES:
        raise InvalidRecipient(_("未知的通知渠道：%(c)s") % {"c": channel})
    return str(kind), False


def kinds_for(
    template: MessageTemplate,
    *,
    user: Any,
    customer: Any,
    explicit: str | None,
    pref: NotifyPreference | None,
    channel_lookup: Callable[[str], Channel | None] = channel_for,
) -> list[str]:
    """The kinds of message this recipient gets from ``template`` (``channel_lookup`` lets the
    bulk path answer "is a channel configured for this kind" once per batch)."""
    if explicit:
        return [explicit]
    wanted = [k for k in template.channels if k in KIND_VALUES]
    preferred = list(pref.preferred) if pref else []
    if user is not None:
        kinds = []
        for k in wanted:
            if k == Kind.INAPP:
                kinds.append(k)
            elif channel_lookup(k) is None:
                # Staff always have the inbox: an unconfigured extra channel is skipped rather
                # than producing a failed message on every notification.
                continue
            elif k == Kind.EMAIL and address_for(k, user=user, customer=None, pref=pref):
                if not preferred or k in preferred:
                    kinds.append(k)
            elif k in GROUP_KINDS and k in preferred:
                kinds.append(k)
        return kinds or [Kind.INAPP]  # staff always get at least the inbox
    if customer is not None:
        usable = [
            k
            for k in wanted
            if k in CUSTOMER_KINDS and address_for(k, user=None, customer=customer, pref=pref)
        ]
        for k in preferred:
            if k in usable:
                return [k]
        if usable:
            return usable[:1]  # a borrower gets one message, not the same text twice
        fallback = [k for k in wanted if k in CUSTOMER_KINDS] or [Kind.SMS]
        return fallback[:1]
    return [k for k in wanted if k in GROUP_KINDS]


def local_day_bounds(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(quiet_tz())
    day = moment.astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    return start, start + dt.timedelta(days=1)


def enqueue_send(message_id: int) -> None:
    from django_tasks import default_task_backend

    from credo.notify.tasks import send_message

    task = send_message
    if "notify" in getattr(default_task_backend, "queues", set()):
        task = task.using(queue_name="notify")
    task.enqueue(message_id)


@transaction.atomic
def preference_set(
    *,
    customer: Any = None,
    user: Any = None,
    opted_out: list[str] | None = None,
    preferred: list[str] | None = None,
    email: str | None = None,
    mobile: str | None = None,
    actor: Any,
) -> NotifyPreference:
    if (customer is None) == (user is None):
        raise InvalidRecipient(_("请指定一个接收人。"))
    pref = preference_for(user=user, customer=customer, lock=True)
    before = {"opted_out": pref.opted_out, "preferred": pref.preferred}
    if opted_out is not None:
        bad = [c for c in opted_out if c not in Category.values]
        if bad:
            raise InvalidRecipient(_("未知的消息类别：%(c)s") % {"c": "、".join(bad)})
        pref.opted_out = sorted(set(opted_out))
    if preferred is not None:
        bad = [c for c in preferred if c not in Kind.values]
        if bad:
            raise InvalidRecipient(_("未知的通知渠道：%(c)s") % {"c": "、".join(bad)})
        pref.preferred = list(dict.fromkeys(preferred))
    if email is not None:
        pref.email = email.strip()
    if mobile is not None:
        pref.mobile = mobile.strip()
    pref.save()
    audit_record(
        action="notify.preference_set",
        actor=actor,
        obj=customer if customer is not None else pref,
        changes={k: [before[k], getattr(pref, k)] for k in before if before[k] != getattr(pref, k)},
    )
    return pref
