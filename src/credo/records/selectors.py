"""Reads of custom records: every list goes through the data scope of the record's parent
(customer, application or loan) and the record type's view roles."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet

from credo.accounts.scope import scope_q
from credo.records import schema
from credo.records.models import CustomRecord, RecordType, RecordTypeVersion

PARENTS = ("customer", "application", "loan")


def _parent_scope(user: Any) -> Q | None:
    """Inside the user's data scope through whichever parent the record has."""
    parts = []
    for p in PARENTS:
        q = scope_q(
            user, owner_field=f"{p}__owner", team_field=f"{p}__team", branch_field=f"{p}__branch"
        )
        if q is None:
            return None
        if not q:
            return Q()
        parts.append(q)
    out = Q()
    for q in parts:
        out |= q
    return out


def current_version(record_type: RecordType) -> RecordTypeVersion | None:
    """The published version, else the newest one (for a draft-only or retired type)."""
    versions = list(record_type.versions.all())
    for v in versions:
        if v.status == RecordTypeVersion.Status.PUBLISHED:
            return v
    return max(versions, key=lambda v: v.number) if versions else None


def can_view_type(user: Any, record_type: RecordType) -> bool:
    version = current_version(record_type)
    return version is not None and schema.Viewer.of(user).allows(version.view_roles)


def can_fill_type(user: Any, version: RecordTypeVersion) -> bool:
    viewer = schema.Viewer.of(user)
    return viewer.allows(version.view_roles) and viewer.allows(version.edit_roles)


def types_for(user: Any) -> list[RecordType]:
    """Record types whose records ``user`` may see (by view roles)."""
    types = RecordType.objects.prefetch_related("versions").order_by("name", "id")
    return [t for t in types if can_view_type(user, t)]


def fillable_types(user: Any, attached_to: str) -> list[tuple[RecordType, RecordTypeVersion]]:
    """Published types of ``attached_to`` that ``user`` may fill in."""
    out = []
    for t in RecordType.objects.filter(attached_to=attached_to).prefetch_related("versions"):
        v = next((v for v in t.versions.all() if v.status == "published"), None)
        if v is not None and can_fill_type(user, v):
            out.append((t, v))
    return out


def records_for(user: Any) -> QuerySet[CustomRecord]:
    q = _parent_scope(user)
    if q is None:
        return CustomRecord.objects.none()
    qs = CustomRecord.objects.all()
    if q:
        qs = qs.filter(q)
    if not getattr(user, "is_superuser", False):
        qs = qs.filter(record_type_id__in=[t.pk for t in types_for(user)])
    return qs


def record_list(
    user: Any, record_type: RecordType | None, params: Mapping[str, Any] | None = None
) -> QuerySet[CustomRecord]:
    """Filters: ``q`` (number or customer name), ``from``/``to`` (filled date), ``mine``,
    ``f_<key>`` on choice / boolean / text fields of the type's current version."""
    params = params or {}
    qs = records_for(user).select_related(
        "record_type",
        "version",
        "customer",
        "application__customer",
        "loan__customer",
        "created_by",
    )
    if record_type is not None:
        qs = qs.filter(record_type=record_type)
    text = str(params.get("q") or "").strip()
    if text:
        qs = qs.filter(
            Q(number__icontains=text)
            | Q(customer__name__icontains=text)
            | Q(application__customer__name__icontains=text)
            | Q(loan__customer__name__icontains=text)
            | Q(application__number__icontains=text)
            | Q(loan__number__icontains=text)
        )
    for name, lookup in (("from", "created_at__date__gte"), ("to", "created_at__date__lte")):
        raw = str(params.get(name) or "")
        if raw:
            with contextlib.suppress(ValueError):
                qs = qs.filter(**{lookup: dt.date.fromisoformat(raw)})
    if params.get("mine"):
        qs = qs.filter(created_by=user)
    if record_type is not None:
        version = current_version(record_type)
        for d in filter_fields(version, user) if version else []:
            wanted = params.get(f"f_{d['key']}")
            if wanted in (None, ""):
                continue
            lookup = f"values__{d['key']}"
            if d["type"] == "boolean":
                qs = qs.filter(**{lookup: wanted in ("1", "true", "on", "是")})
            elif d["type"] == "multi_choice":
                qs = qs.filter(**{f"{lookup}__icontains": f'"{wanted}"'})
            elif d["type"] in ("text", "textarea"):
                qs = qs.filter(**{f"{lookup}__icontains": str(wanted)})
            else:
                qs = qs.filter(**{lookup: str(wanted)})
    return qs.order_by("-id")


def filter_fields(version: RecordTypeVersion, user: Any) -> list[dict[str, Any]]:
    viewer = schema.Viewer.of(user)
    return [
        d
        for d in version.fields
        if d["type"] in ("choice", "multi_choice", "boolean", "text")
        and d.get("show_in_list")
        and viewer.can_view(d)
    ]


def list_fields(version: RecordTypeVersion, user: Any) -> list[dict[str, Any]]:
    viewer = schema.Viewer.of(user)
    return [d for d in version.fields if d.get("show_in_list") and viewer.can_view(d)]


def record_get(user: Any, pk: int) -> CustomRecord | None:
    """The record if it exists and ``user`` may see it, else None (a 404 either way)."""
    return (
        records_for(user)
        .select_related("record_type", "version", "customer", "application", "loan", "created_by")
        .filter(pk=pk)
        .first()
    )


def records_of_parent(user: Any, **parent: Any) -> QuerySet[CustomRecord]:
    return records_for(user).filter(**parent).select_related("record_type", "created_by")


def report_fields(user: Any) -> list[tuple[str, str, str]]:
    """(dimension key, label, values key) of choice/boolean/text fields shown in lists, over
    every type the user may see: the report engine's extra dimensions."""
    out = []
    seen = set()
    for t in types_for(user):
        version = current_version(t)
        if version is None:
            continue
        for d in filter_fields(version, user):
            if d["key"] in seen:
                continue
            seen.add(d["key"])
            out.append((f"f_{d['key']}", f"{t.name} · {d['label']}", d["key"]))
    return out
