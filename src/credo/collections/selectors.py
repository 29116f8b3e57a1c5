"""Reads of collections, always through the data scope (assignee / assignee's team / branch)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from credo.accounts.scope import can_access, scope_queryset
from credo.collections.models import CollectionCase, ComplianceLog, PromiseToPay
from credo.core import clock

SCOPE = {"owner_field": "assignee", "team_field": "team", "branch_field": "branch"}


def cases_visible(user: Any) -> QuerySet[CollectionCase]:
    qs = CollectionCase.objects.select_related("loan", "customer", "assignee")
    return scope_queryset(qs, user, **SCOPE)


def cases_mine(user: Any) -> QuerySet[CollectionCase]:
    return cases_visible(user).filter(assignee=user)


def cases_filter(qs: QuerySet[CollectionCase], params: Any) -> QuerySet[CollectionCase]:
    status = (params.get("status") or "").strip()
    tier = (params.get("tier") or "").strip()
    q = (params.get("q") or "").strip()
    if status == "active":
        qs = qs.exclude(status=CollectionCase.Status.CLOSED)
    elif status:
        qs = qs.filter(status=status)
    if tier:
        qs = qs.filter(tier=tier)
    if (params.get("promise") or "") == "due":  # the 工作台's "承诺到期" card
        qs = qs.filter(pk__in=promises_due().values("case_id"))
    if q:
        qs = qs.filter(customer__name__icontains=q) | qs.filter(loan__number__icontains=q)
    return qs.order_by("-priority", "id")


def promises_due() -> QuerySet[PromiseToPay]:
    """Pending promises to pay whose date has come (today or earlier, not yet resolved)."""
    return PromiseToPay.objects.filter(
        status=PromiseToPay.Status.PENDING, promised_date__lte=clock.today()
    )


def status_counts(qs: QuerySet[CollectionCase]) -> dict[str, int]:
    rows = qs.order_by().values_list("status").annotate(n=Count("id"))
    return {status: n for status, n in rows}


def case_get(user: Any, pk: int) -> CollectionCase:
    case = (
        CollectionCase.objects.select_related("loan", "customer", "assignee").filter(pk=pk).first()
    )
    if case is None or not can_access(case, user, **SCOPE):
        raise Http404
    return case


def compliance_logs(user: Any) -> QuerySet[ComplianceLog]:
    visible = cases_visible(user).values("pk")
    return ComplianceLog.objects.filter(case__in=visible).select_related(
        "case__customer", "case__loan", "actor"
    )
