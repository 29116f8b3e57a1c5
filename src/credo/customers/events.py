"""The customer timeline API for every app: ``record_event(customer=..., kind=..., title=...)``.

Call it inside the same transaction as the business change, so the timeline never shows
something that was rolled back and never misses something that was committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone

from credo.customers.models import Customer, CustomerEvent


def record_event(
    *,
    customer: Customer,
    kind: str,
    title: str,
    actor: Any = None,
    detail: Mapping[str, Any] | None = None,
    source: str = "",
    obj: Any = None,
    occurred_at: dt.datetime | None = None,
) -> CustomerEvent:
    if kind not in CustomerEvent.Kind.values:
        raise ValueError(f"unknown customer event kind {kind!r}")
    return CustomerEvent.objects.create(
        customer=customer,
        kind=kind,
        title=title[:200],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        detail=dict(detail or {}),
        source=source or (obj._meta.app_label if obj is not None else ""),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        occurred_at=occurred_at or timezone.now(),
    )


def record_events_bulk(
    events: Iterable[Mapping[str, Any]], *, batch_size: int = 2000
) -> list[CustomerEvent]:
    """Many timeline rows in one bulk insert (the bulk notification path).

    Each item takes the keyword arguments of :func:`record_event` (``customer`` may be given as
    ``customer_id``); the rows are exactly what :func:`record_event` would write, one by one.
    Same rule: call it inside the transaction of the business change.
    """
    rows: list[CustomerEvent] = []
    default_time = timezone.now()
    kinds = frozenset(CustomerEvent.Kind.values)
    for spec in events:
        kind = spec["kind"]
        if kind not in kinds:
            raise ValueError(f"unknown customer event kind {kind!r}")
        obj = spec.get("obj")
        actor: Any = spec.get("actor")
        customer = spec.get("customer")
        rows.append(
            CustomerEvent(
                customer_id=customer.pk if customer is not None else spec["customer_id"],
                kind=kind,
                title=str(spec["title"])[:200],
                actor_id=actor.pk if getattr(actor, "is_authenticated", False) else None,
                detail=dict(spec.get("detail") or {}),
                source=spec.get("source") or (obj._meta.app_label if obj is not None else ""),
                object_type=obj._meta.label_lower if obj is not None else "",
                object_id=str(obj.pk) if obj is not None else "",
                occurred_at=spec.get("occurred_at") or default_time,
            )
        )
    return CustomerEvent.objects.bulk_create(rows, batch_size=batch_size)
