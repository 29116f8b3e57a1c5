"""Reads of the webhooks app: endpoints and the delivery log with its filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from credo.webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.select_related("created_by").annotate(
        n_deliveries=Count("deliveries"),
        n_dead=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.DEAD)),
    )


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def delivery_list(
    params: Mapping[str, Any], endpoint: WebhookEndpoint | None = None
) -> QuerySet[WebhookDelivery]:
    qs = WebhookDelivery.objects.select_related("endpoint").order_by("-created_at", "-id")
    if endpoint is not None:
        qs = qs.filter(endpoint=endpoint)
    status = params.get("status") or ""
    if status in WebhookDelivery.Status.values:
        qs = qs.filter(status=status)
    event_type = (params.get("event_type") or "").strip()
    if event_type:
        qs = qs.filter(event_type__icontains=event_type)
    q = (params.get("q") or "").strip().lstrip("#")
    if q:
        qs = qs.filter(Q(pk=int(q)) if q.isdigit() and len(q) < 18 else Q(idempotency_key=q))
    tz = timezone.get_current_timezone()
    start = _date(params.get("date_from"))
    if start:
        qs = qs.filter(created_at__gte=dt.datetime.combine(start, dt.time(), tzinfo=tz))
    end = _date(params.get("date_to"))
    if end:
        qs = qs.filter(
            created_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        )
    return qs


def status_counts(qs: QuerySet[WebhookDelivery]) -> dict[str, int]:
    counts = {v: 0 for v in WebhookDelivery.Status.values}
    for row in qs.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts
