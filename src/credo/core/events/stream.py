"""Events = sealed audit rows in chain order; consumers read them through a cursor each."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max

from credo.core.registry import Registry

log = logging.getLogger(__name__)

_FIELDS = (
    "seq",
    "id",
    "created_at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "metadata",
)


@dataclass(frozen=True)
class Event:
    """One business event: a sealed audit row. ``changes`` is ``{field: {"old", "new"}}`` for
    updates and transitions (sensitive values already masked by the audit log)."""

    seq: int
    audit_id: int
    at: dt.datetime
    action: str
    object_type: str
    object_id: str
    object_repr: str = ""
    actor_id: int | None = None
    actor_name: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Idempotency key of the event (its chain position never changes)."""
        return f"audit:{self.seq}"

    def changed(self, name: str) -> bool:
        return name in self.changes

    def new_value(self, name: str, default: Any = None) -> Any:
        value = self.changes.get(name)
        if isinstance(value, dict) and "new" in value:
            return value["new"]
        return default

    def old_value(self, name: str, default: Any = None) -> Any:
        value = self.changes.get(name)
        if isinstance(value, dict) and "old" in value:
            return value["old"]
        return default

    def as_payload(self) -> dict[str, Any]:
        """The JSON form sent to webhooks and stored in run logs."""
        return {
            "id": self.key,
            "seq": self.seq,
            "type": self.action,
            "occurred_at": self.at.isoformat(),
            "object": {"type": self.object_type, "id": self.object_id, "repr": self.object_repr},
            "actor": {"id": self.actor_id, "name": self.actor_name},
            "changes": self.changes,
            "metadata": self.metadata,
        }


def _event(row: dict[str, Any]) -> Event:
    return Event(
        seq=int(row["seq"]),
        audit_id=int(row["id"]),
        at=row["created_at"],
        action=row["action"],
        object_type=row["object_type"] or "",
        object_id=row["object_id"] or "",
        object_repr=row["object_repr"] or "",
        actor_id=row["actor_id"],
        actor_name=row["actor_name"] or "",
        changes=dict(row["changes"] or {}),
        metadata=dict(row["metadata"] or {}),
    )


def events_between(
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    after_seq: int = 0,
    upto_seq: int | None = None,
    actions: Iterable[str] | None = None,
    object_type: str = "",
    object_id: str = "",
    chunk: int = 2000,
) -> Iterator[Event]:
    """Sealed events in chain order, filtered (the history an automation is replayed over)."""
    from credo.core.audit.models import AuditEntry

    qs = AuditEntry.objects.filter(seq__isnull=False, seq__gt=after_seq)
    if upto_seq is not None:
        qs = qs.filter(seq__lte=upto_seq)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    if actions is not None:
        qs = qs.filter(action__in=list(actions))
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=str(object_id))
    last = after_seq
    while True:
        rows = list(qs.filter(seq__gt=last).order_by("seq").values(*_FIELDS)[:chunk])
        if not rows:
            return
        for row in rows:
            yield _event(row)
        last = int(rows[-1]["seq"])
        if len(rows) < chunk:
            return


# --- consumers ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Consumer:
    """``handle(events)`` gets each batch once, in chain order, inside the transaction that
    advances the cursor. ``actions``: only these audit actions (``None``: a callable deciding
    per batch which actions it wants, evaluated at dispatch time, e.g. the published
    automations' triggers; an empty set = nothing, the cursor still moves)."""

    key: str
    handle: Callable[[list[Event]], None]
    actions: Callable[[], Iterable[str] | None] | None = None


#: consumer key → consumer. A new consumer starts at the head: it sees what happens after it
#: first runs, not the whole history (history is what ``events_between`` is for).
consumers: Registry[Consumer] = Registry("event consumers", on_duplicate="replace")


def register_consumer(
    key: str,
    handle: Callable[[list[Event]], None],
    *,
    actions: Callable[[], Iterable[str] | None] | None = None,
) -> Consumer:
    return consumers.register(key, Consumer(key, handle, actions))


def sealed_head() -> int:
    from credo.core.audit.models import AuditChainHead

    head = AuditChainHead.objects.filter(pk=1).values_list("seq", flat=True).first()
    if head is not None:
        return int(head)
    from credo.core.audit.models import AuditEntry

    return int(AuditEntry.objects.aggregate(m=Max("seq"))["m"] or 0)


#: how many chain positions one transaction of one consumer covers (filtered reads are cheap;
#: this bounds the handler's batch and the transaction's length)
SCAN_WINDOW = 5000


def _dispatch_one(consumer: Consumer, head: int, window: int) -> tuple[int, bool]:
    """One window for one consumer; returns (events handed over, more left)."""
    from credo.core.audit.models import AuditEntry
    from credo.core.events.models import EventCursor

    with transaction.atomic():
        EventCursor.objects.get_or_create(name=consumer.key, defaults={"seq": head})
        cursor = (
            EventCursor.objects.select_for_update(skip_locked=True)
            .filter(name=consumer.key)
            .first()
        )
        if cursor is None:  # another dispatcher holds it
            return 0, False
        if cursor.seq >= head:
            return 0, False
        upper = min(head, cursor.seq + window)
        wanted = consumer.actions() if consumer.actions is not None else None
        events: list[Event] = []
        if wanted is None or (wanted := list(wanted)):
            qs = AuditEntry.objects.filter(seq__gt=cursor.seq, seq__lte=upper)
            if wanted is not None:
                qs = qs.filter(action__in=wanted)
            events = [_event(r) for r in qs.order_by("seq").values(*_FIELDS)]
        if events:
            consumer.handle(events)
        cursor.seq = upper
        cursor.delivered += len(events)
        cursor.last_error = ""
        cursor.save(update_fields=["seq", "delivered", "last_error", "updated_at"])
        return len(events), upper < head


def events_dispatch(
    *, only: Iterable[str] | None = None, window: int = SCAN_WINDOW, max_windows: int = 200
) -> dict[str, int]:
    """Hand every consumer the sealed events past its cursor. A failing consumer is logged on
    its cursor and retried next time; it never blocks the others. Returns events per consumer."""
    from credo.core.events.models import EventCursor

    head = sealed_head()
    keys = set(only) if only is not None else None
    handed: dict[str, int] = {}
    for consumer in consumers:
        if keys is not None and consumer.key not in keys:
            continue
        total = 0
        try:
            for _ in range(max_windows):
                n, more = _dispatch_one(consumer, head, window)
                total += n
                if not more:
                    break
        except Exception as exc:  # noqa: BLE001 — one consumer's bug must not stop the rest
            log.exception("event consumer %s failed", consumer.key)
            EventCursor.objects.filter(name=consumer.key).update(last_error=repr(exc)[:2000])
        handed[consumer.key] = total
    return handed


def events_pump() -> dict[str, int]:
    """Seal what has committed, then dispatch: the synchronous path (tests, ``credo events
    pump``, the demo); the scheduled sealer task does the same every minute."""
    from credo.core.audit.services import audit_seal

    audit_seal()
    return events_dispatch()
