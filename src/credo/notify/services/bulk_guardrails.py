"""The guardrails of a batch of notices (:mod:`credo.notify.services.bulk`): the recipients'
preferences (locked for a capped category, ordered by id — a leaf in the lock order), then per
message do-not-contact, opt-out, missing address, quiet hours and the daily cap."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.db.models.functions import Length, TruncDate
from django.utils.translation import gettext as _

from credo.notify import guardrails
from credo.notify.errors import InvalidRecipient, NotifyError
from credo.notify.models import Category, Channel, Kind, Message, MessageTemplate, NotifyPreference
from credo.notify.services.channels import channel_for, simulated_channel
from credo.notify.services.config import daily_caps, quiet_categories, quiet_tz, quiet_window
from credo.notify.services.recipients import (
    ACTIVE,
    DO_NOT_CONTACT_FLAG,
    address_for,
    kinds_for,
)

if TYPE_CHECKING:
    from credo.notify.services.bulk import Notice

# Stable keys of the suppression reasons (``BulkResult.suppressed_by_reason``, audit metadata).
DO_NOT_CONTACT = "do_not_contact"
OPTED_OUT = "opted_out"
NO_ADDRESS = "no_address"
DAILY_CAP = "daily_cap"


@dataclass
class Item:
    """One notice on its way through the batch."""

    index: int
    notice: Notice
    explicit: str | None
    force_sim: bool
    template: MessageTemplate | None = None
    subject: str = ""
    body: str = ""


@dataclass
class Plan:
    """One message about to be written, with the guardrails' verdict."""

    item: Item
    kind: str
    address: str
    scheduled: dt.datetime
    suppressed: str = ""
    reason_key: str = ""


class ChannelCache:
    """``channel_for(kind)`` once per kind per batch."""

    def __init__(self) -> None:
        self._by_kind: dict[str, Channel | None] = {}
        self._simulated: tuple[Channel | None] | None = None

    def get(self, kind: str) -> Channel | None:
        if kind not in self._by_kind:
            self._by_kind[kind] = channel_for(kind)
        return self._by_kind[kind]

    def simulated(self) -> Channel | None:
        if self._simulated is None:
            self._simulated = (simulated_channel(),)
        return self._simulated[0]


def recipient_key(user: Any, customer: Any) -> tuple[str, int] | None:
    if customer is not None:
        return ("c", customer.pk)
    if user is not None:
        return ("u", user.pk)
    return None


def default_pref(user: Any, customer: Any) -> NotifyPreference:
    """An unsaved preference with the defaults (what a recipient without a row has)."""
    if customer is not None:
        return NotifyPreference(customer_id=customer.pk)
    return NotifyPreference(user_id=user.pk)


def lock_preferences(customer_ids: list[int], user_ids: list[int]) -> None:
    """Lock every recipient's preference row (ordered by id), creating the missing ones first.
    The lock reads which rows exist, so a batch whose recipients all have one — every night
    after the first — costs this one statement; rows created here have higher ids than the
    ones already locked, so the locks are still taken in id order."""
    held = list(
        NotifyPreference.objects.filter(Q(customer_id__in=customer_ids) | Q(user_id__in=user_ids))
        .select_for_update()
        .order_by("id")
        .values_list("customer_id", "user_id")
    )
    have_c = {c for c, _u in held if c is not None}
    have_u = {u for _c, u in held if u is not None}
    new_c = [c for c in customer_ids if c not in have_c]
    new_u = [u for u in user_ids if u not in have_u]
    if not new_c and not new_u:
        return
    NotifyPreference.objects.bulk_create(
        [NotifyPreference(customer_id=c) for c in new_c]
        + [NotifyPreference(user_id=u) for u in new_u],
        ignore_conflicts=True,
        batch_size=2000,
    )
    list(
        NotifyPreference.objects.filter(Q(customer_id__in=new_c) | Q(user_id__in=new_u))
        .select_for_update()
        .order_by("id")
        .values_list("id", flat=True)
    )


def load_preferences(
    recipients: list[tuple[Any, Any]], *, category: str
) -> dict[tuple[str, int], NotifyPreference]:
    """Every recipient's preference that differs from the defaults, in one query; when the
    category is capped, every recipient's row is first created if missing and locked
    (ordered by id) — before anything is read."""
    customer_ids = sorted({c.pk for u, c in recipients if c is not None})
    user_ids = sorted({u.pk for u, c in recipients if c is None and u is not None})
    if not customer_ids and not user_ids:
        return {}
    mine = Q(customer_id__in=customer_ids) | Q(user_id__in=user_ids)
    if daily_caps().get(category, 0):
        lock_preferences(customer_ids, user_ids)
    # A row with the defaults behaves like no row (``default_pref``): only the others are
    # loaded (most recipients never set anything).
    qs = (
        NotifyPreference.objects.filter(mine)
        .annotate(_email=Length("email"), _mobile=Length("mobile"))
        .filter(~Q(opted_out=[]) | ~Q(preferred=[]) | Q(_email__gt=0) | Q(_mobile__gt=0))
    )
    prefs: dict[tuple[str, int], NotifyPreference] = {}
    for pref in qs:
        if pref.customer_id is not None:
            prefs[("c", pref.customer_id)] = pref
        elif pref.user_id is not None:
            prefs[("u", pref.user_id)] = pref
    return prefs


def plan_messages(
    items: list[Item],
    prefs: dict[tuple[str, int], NotifyPreference],
    channels: ChannelCache,
    *,
    category: str,
    now: dt.datetime,
    reject: Callable[[int, NotifyError], None],
) -> list[Plan]:
    """The messages of each notice with the guardrails' verdict: do-not-contact, opt-out,
    missing address, quiet hours, then the daily cap."""
    window, tz = quiet_window(), quiet_tz()
    quiet = category in quiet_categories()
    plans: list[Plan] = []
    for it in items:
        user, customer = it.notice.user, it.notice.customer
        key = recipient_key(user, customer)
        pref = prefs.get(key) if key else None
        if key and pref is None:
            pref = default_pref(user, customer)
        assert it.template is not None
        kinds = kinds_for(
            it.template,
            user=user,
            customer=customer,
            explicit=it.explicit,
            pref=pref,
            channel_lookup=channels.get,
        )
        if not kinds:
            reject(
                it.index,
                InvalidRecipient(_("模板“%(n)s”没有可用的渠道。") % {"n": it.template.name}),
            )
            continue
        send_after = it.notice.send_after
        for kind in kinds:
            address = address_for(kind, user=user, customer=customer, pref=pref)
            scheduled = max(now, send_after) if send_after else now
            reason_key, suppressed = suppressed_reason(
                kind=kind,
                category=category,
                user=user,
                customer=customer,
                pref=pref,
                address=address,
            )
            if not suppressed and kind != Kind.INAPP and quiet:
                until = guardrails.quiet_until(scheduled, window, tz)
                if until is not None:
                    scheduled = until  # deferred, never dropped
            plans.append(Plan(it, kind, address, scheduled, suppressed, reason_key))
    apply_caps(plans, ZoneInfo(tz), category=category)
    return plans


def apply_caps(plans: list[Plan], zone: ZoneInfo, *, category: str) -> None:
    """Suppress what is over the daily cap: the day's count in the outbox (one grouped
    query) plus what this batch already accepted, in notice order."""
    cap = daily_caps().get(category, 0)
    if not cap:
        return
    capped = [
        (plan, plan.item.notice)
        for plan in plans
        if not plan.suppressed
        and plan.kind != Kind.INAPP
        and (plan.item.notice.user is not None or plan.item.notice.customer is not None)
    ]
    if not capped:
        return
    counts: dict[tuple[Any, ...], int] = {}
    days = {plan.scheduled.astimezone(zone).date() for plan, _n in capped}
    start = dt.datetime.combine(min(days), dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(max(days), dt.time(0), tzinfo=zone) + dt.timedelta(days=1)
    customer_ids = {n.customer.pk for _p, n in capped if n.customer is not None}
    user_ids = {n.user.pk for _p, n in capped if n.customer is None}
    rows = (
        Message.objects.filter(
            Q(customer_id__in=customer_ids) | Q(user_id__in=user_ids),
            category=category,
            kind__in={plan.kind for plan, _n in capped},
            status__in=ACTIVE,
            scheduled_at__gte=start,
            scheduled_at__lt=end,
        )
        .annotate(day=TruncDate("scheduled_at", tzinfo=zone))
        .values("customer_id", "user_id", "kind", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        who = ("c", row["customer_id"]) if row["customer_id"] else ("u", row["user_id"])
        counts[(who, row["kind"], row["day"])] = row["n"]
    reason = _("超过每日上限：%(cat)s类%(kind)s每位接收人每天最多 %(n)s 条。")
    for plan, notice in capped:
        slot = (
            recipient_key(notice.user, notice.customer),
            plan.kind,
            plan.scheduled.astimezone(zone).date(),
        )
        if counts.get(slot, 0) >= cap:
            plan.reason_key = DAILY_CAP
            plan.suppressed = reason % {
                "cat": Category(category).label,
                "kind": Kind(plan.kind).label,
                "n": cap,
            }
        else:
            counts[slot] = counts.get(slot, 0) + 1


def suppressed_reason(
    *, kind: str, category: str, user: Any, customer: Any, pref: Any, address: str
) -> tuple[str, str]:
    """(reason key, why a message to this recipient is not sent at all); ("", "") = sent."""
    if customer is not None and DO_NOT_CONTACT_FLAG in (customer.risk_flags or []):
        return DO_NOT_CONTACT, _("客户已登记“勿联系”，消息未发送。")
    if pref is not None and category in (pref.opted_out or []):
        return OPTED_OUT, _("接收人已拒收“%(c)s”类消息。") % {"c": Category(category).label}
    if kind != Kind.INAPP and not address and (user is not None or customer is not None):
        return NO_ADDRESS, _("接收人没有可用的%(k)s地址。") % {"k": Kind(kind).label}
    return "", ""
