from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from credo.core.audit.models import AuditEntry


def audit_search(
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.order_by("-seq")
    if actor:
        qs = qs.filter(actor_name__icontains=actor)
    if action:
        qs = qs.filter(action__startswith=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(created_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
        qs = qs.filter(created_at__lt=end)
    return qs


def audit_facets() -> dict[str, Any]:
    """Distinct actions and object types for the filter pickers."""
    return {
        "actions": list(
            AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()[:200]
        ),
        "object_types": list(
            AuditEntry.objects.exclude(object_type="")
            .order_by("object_type")
            .values_list("object_type", flat=True)
            .distinct()[:200]
        ),
    }
