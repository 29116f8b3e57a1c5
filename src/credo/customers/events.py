"""The customer timeline API for every app: ``record_event(customer=..., kind=..., title=...)``.

Call it inside the same transaction as the business change, so the timeline never shows
something that was rolled back and never misses something that was committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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
