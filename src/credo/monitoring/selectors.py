"""Reads of alerts and retention suggestions, always through the user's data scope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from credo.accounts.scope import can_access, scope_queryset
from credo.core.audit.services import audit_record
from credo.monitoring.models import Alert, RetentionSuggestion, Severity


def alerts_for(user: Any) -> QuerySet[Alert]:
    """Scoped by the customer's owner/team/branch; the assignee always sees their alerts."""
    scoped = scope_queryset(Alert.objects.all(), user)
    if getattr(user, "is_authenticated", False):
        scoped = Alert.objects.filter(Q(pk__in=scoped.values("pk")) | Q(assignee=user))
    return scoped


def alert_list(user: Any, params: Mapping[str, Any] | None = None) -> QuerySet[Alert]:
    params = params or {}
    qs = alerts_for(user).select_related("customer", "loan", "assignee", "branch")
    status = params.get("status")
    if status == "active":
        qs = qs.exclude(status=Alert.Status.CLOSED)
    elif status in Alert.Status.values:
        qs = qs.filter(status=status)
    if params.get("severity") in Severity.values:
        qs = qs.filter(severity=params["severity"])
    if params.get("rule"):
        qs = qs.filter(rule_code=str(params["rule"]))
    for key, field in (("assignee", "assignee_id"), ("branch", "branch_id")):
        value = str(params.get(key) or "")
        if value.isdigit():
            qs = qs.filter(**{field: int(value)})
    if params.get("overdue") in ("1", "on", "true", True):
        qs = qs.exclude(status=Alert.Status.CLOSED).filter(due_at__lt=timezone.now())
    q = str(params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(customer__name__icontains=q) | Q(loan__number__icontains=q))
    return qs.order_by("-id")


def alert_counts(qs: QuerySet[Alert]) -> dict[str, dict[str, int]]:
    by_status = dict(qs.order_by().values_list("status").annotate(n=Count("id")))
    by_sev = dict(
        qs.exclude(status=Alert.Status.CLOSED)
        .order_by()
        .values_list("severity")
        .annotate(n=Count("id"))
    )
    return {"status": by_status, "severity": by_sev}


def alert_get(user: Any, pk: Any) -> Alert:
    try:
        alert = Alert.objects.select_related(
            "customer", "loan", "assignee", "branch", "rules_version", "owner"
        ).get(pk=int(pk))
    except (Alert.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not (can_access(alert, user) or alert.assignee_id == getattr(user, "pk", None)):
        with transaction.atomic():
            audit_record(action="monitoring.alert_access_denied", actor=user, obj=alert)
        raise Http404
    return alert


def rule_codes(qs: QuerySet[Alert]) -> list[tuple[str, str]]:
    return list(qs.order_by("rule_code").values_list("rule_code", "rule_name").distinct())


def suggestion_list(user: Any, status: str = "pending") -> QuerySet[RetentionSuggestion]:
    qs = scope_queryset(RetentionSuggestion.objects.all(), user).select_related(
        "customer", "loan", "decided_by"
    )
    if status in RetentionSuggestion.Status.values:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def suggestion_get(user: Any, pk: Any) -> RetentionSuggestion:
    try:
        s = RetentionSuggestion.objects.select_related("customer").get(pk=int(pk))
    except (RetentionSuggestion.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can_access(s, user):
        raise Http404
    return s
