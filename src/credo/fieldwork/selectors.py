"""Reads of field work, always through the user's data scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from credo.accounts.scope import can_access, scope_q, scope_queryset
from credo.fieldwork.models import CustomerSite, FieldPhoto, Inspection, Visit


def inspections_for(user: Any) -> QuerySet[Inspection]:
    scoped = scope_queryset(Inspection.objects.all(), user)
    return Inspection.objects.filter(Q(pk__in=scoped.values("pk")) | Q(assignee=user))


def inspection_visible_q(user: Any) -> Q:
    """The rows of :func:`inspections_for` (inside the user's data scope, or assigned to the
    user) as one condition on the inspection row, without the ``pk IN (subquery)`` — for one
    customer's few inspections (the 360 page), where compiling the subquery cost more than the
    query."""
    q = scope_q(user)
    if q is None:  # no scope (inactive user): only what is assigned to the user
        return Q(assignee=user)
    if not q:  # scope "all"
        return Q()
    return q | Q(assignee=user)


def inspection_list(user: Any, params: dict[str, Any], today: dt.date) -> QuerySet[Inspection]:
    qs = inspections_for(user).select_related("customer", "loan", "assignee")
    view = params.get("view") or "todo"
    if view == "todo":
        qs = qs.filter(status=Inspection.Status.PLANNED)
    elif view == "overdue":
        qs = qs.filter(status=Inspection.Status.PLANNED, due_date__lt=today)
    elif view == "failed":
        qs = qs.filter(status=Inspection.Status.COMPLETED, result=Inspection.Result.FAIL)
    elif view == "done":
        qs = qs.filter(status=Inspection.Status.COMPLETED)
    if params.get("mine"):
        qs = qs.filter(assignee=user)
    if view in ("done", "failed"):
        return qs.order_by("-completed_at", "-id")
    return qs.order_by("due_date", "id")


def inspection_get(user: Any, pk: Any) -> Inspection:
    insp = (
        Inspection.objects.select_related("customer", "loan", "assignee", "completed_by")
        .filter(pk=pk)
        .first()
    )
    if insp is None:
        raise Http404
    if insp.assignee_id != user.pk and not can_access(insp, user):
        raise PermissionDenied
    return insp


def visits_for(user: Any) -> QuerySet[Visit]:
    return scope_queryset(Visit.objects.all(), user)


def visit_get(user: Any, pk: Any) -> Visit:
    visit = Visit.objects.select_related("customer", "owner").filter(pk=pk).first()
    if visit is None:
        raise Http404
    if not can_access(visit, user):
        raise PermissionDenied
    return visit


def visit_counts(qs: QuerySet[Visit]) -> list[dict[str, Any]]:
    """Visits per member (the staff report on the visits page): count, customers, located."""
    rows = (
        qs.values("owner_id", "owner__display_name", "owner__username")
        .annotate(
            visits=Count("id"),
            customers=Count("customer_id", distinct=True),
            located=Count("id", filter=Q(latitude__isnull=False)),
        )
        .order_by("-visits", "owner_id")
    )
    return [
        {
            "owner_id": r["owner_id"],
            "name": r["owner__display_name"] or r["owner__username"],
            "visits": r["visits"],
            "customers": r["customers"],
            "located": r["located"],
        }
        for r in rows
    ]


def photo_get(user: Any, pk: Any) -> FieldPhoto:
    photo = FieldPhoto.objects.select_related("inspection", "visit").filter(pk=pk).first()
    if photo is None:
        raise Http404
    if photo.inspection is not None:
        if not user.has_perm("fieldwork.view_inspection"):
            raise PermissionDenied
        inspection_get(user, photo.inspection_id)
    else:
        if not user.has_perm("fieldwork.view_visit"):
            raise PermissionDenied
        visit_get(user, photo.visit_id)
    return photo


def site_of(customer: Any) -> CustomerSite | None:
    return CustomerSite.objects.filter(customer=customer).first()
