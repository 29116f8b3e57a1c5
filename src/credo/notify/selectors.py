"""Reads: the outbox (permission + data scope) and a user's inbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from credo.accounts.scope import scope_q
from credo.notify.models import Kind, Message


def outbox_for(user: Any) -> QuerySet[Message]:
    """Messages to customers inside the user's data scope, plus staff and group messages."""
    q = scope_q(
        user,
        owner_field="customer__owner",
        team_field="customer__team",
        branch_field="customer__branch",
    )
    if q is None or not user.has_perm("notify.view_message"):
        return Message.objects.none()
    qs = Message.objects.all()
    if q:
        qs = qs.filter(q | Q(customer__isnull=True))
    return qs


def outbox_list(user: Any, params: Mapping[str, Any] | None = None) -> QuerySet[Message]:
    """Filters: ``status``, ``kind``, ``category``, ``date_from``/``date_to`` (created, local
    dates), ``q`` (template code or subject)."""
    params = params or {}
    qs = outbox_for(user).select_related("channel", "user", "customer")
    if params.get("status") in Message.Status.values:
        qs = qs.filter(status=params["status"])
    if params.get("kind") in Kind.values:
        qs = qs.filter(kind=params["kind"])
    if params.get("category") in ("service", "marketing", "collection"):
        qs = qs.filter(category=params["category"])
    for key, lookup in (
        ("date_from", "created_at__date__gte"),
        ("date_to", "created_at__date__lte"),
    ):
        value = params.get(key)
        if value:
            try:
                day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            except ValueError:
                continue
            qs = qs.filter(**{lookup: day})
    q = str(params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(template_code__icontains=q) | Q(subject__icontains=q))
    return qs.order_by("-id")


def outbox_counts(qs: QuerySet[Message]) -> dict[str, int]:
    rows = qs.order_by().values("status").annotate(n=Count("id"))
    counts = {s: 0 for s in Message.Status.values}
    for row in rows:
        counts[row["status"]] = row["n"]
    counts["all"] = sum(counts.values())
    return counts


def outbox_get(user: Any, pk: Any) -> Message:
    try:
        return outbox_for(user).select_related("channel", "user", "customer").get(pk=int(pk))
    except (Message.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def inbox(user: Any, *, unread_only: bool = False) -> QuerySet[Message]:
    if not getattr(user, "is_authenticated", False):
        return Message.objects.none()
    qs = Message.objects.filter(user=user, kind=Kind.INAPP, status=Message.Status.SENT)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-sent_at", "-id")


def inbox_get(user: Any, pk: Any) -> Message:
    try:
        return inbox(user).get(pk=int(pk))
    except (Message.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


#: How long the header's unread badge may be served from the shared cache. Every path that
#: makes a message unread-and-visible or reads it (bulk writes, the sender, mark read / all
#: read) drops the user's entry at once (``forget_unread``); the TTL bounds any other path.
UNREAD_TTL = 30


def _unread_key(user_id: Any) -> str:
    return f"credo:notify:unread:{user_id}"


def unread_count(user: Any) -> int:
    """The user's unread in-app messages — the bell in every page's header. With a shared cache
    (Redis: ``CREDO_CACHE_SHARED``) it is cached per user for ``UNREAD_TTL`` seconds and
    dropped by every write that changes it; without one it is counted on every page."""
    from django.conf import settings

    if not getattr(user, "is_authenticated", False):
        return 0
    if not getattr(settings, "CREDO_CACHE_SHARED", False):
        return inbox(user, unread_only=True).count()
    from django.core.cache import cache

    key = _unread_key(user.pk)
    n = cache.get(key)
    if n is None:
        n = inbox(user, unread_only=True).count()
        cache.set(key, n, timeout=UNREAD_TTL)
    return int(n)


def forget_unread(user_ids: Any) -> None:
    """Drop the cached unread counts of these users — now, and again when the write commits
    (a page rendered meanwhile could otherwise put the old count back)."""
    from django.conf import settings

    ids = {int(pk) for pk in user_ids if pk is not None}
    if not ids or not getattr(settings, "CREDO_CACHE_SHARED", False):
        return
    from django.core.cache import cache
    from django.db import transaction

    keys = [_unread_key(pk) for pk in sorted(ids)]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
