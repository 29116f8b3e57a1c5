"""Reads of the automations app."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404

from credo.automations.models import Automation, AutomationRun, AutomationVersion


def automation_list() -> QuerySet[Automation]:
    return Automation.objects.annotate(
        n_runs=Count("runs", distinct=True),
        last_run=Max("runs__created_at"),
        published_number=Max("versions__number", filter=Q(versions__status="published")),
        draft_number=Max("versions__number", filter=Q(versions__status="draft")),
    ).order_by("-id")


def automation_get(pk: int) -> Automation:
    try:
        return Automation.objects.get(pk=pk)
    except Automation.DoesNotExist:
        raise Http404 from None


def version_get(automation: Automation, number: int) -> AutomationVersion:
    try:
        return automation.versions.select_related("created_by", "published_by").get(number=number)
    except AutomationVersion.DoesNotExist:
        raise Http404 from None


def versions_of(automation: Automation) -> QuerySet[AutomationVersion]:
    return automation.versions.select_related("created_by", "published_by").order_by("-number")


def draft_of(automation: Automation) -> AutomationVersion | None:
    return automation.versions.filter(status=AutomationVersion.Status.DRAFT).first()


def published_of(automation: Automation) -> AutomationVersion | None:
    return automation.versions.filter(status=AutomationVersion.Status.PUBLISHED).first()


def runs_of(automation: Automation, *, status: str = "") -> QuerySet[AutomationRun]:
    qs = automation.runs.select_related("version").order_by("-id")
    if status:
        qs = qs.filter(status=status)
    return qs


def run_get(automation: Automation, pk: int) -> AutomationRun:
    try:
        return automation.runs.select_related("version").get(pk=pk)
    except AutomationRun.DoesNotExist:
        raise Http404 from None


def run_out(run: AutomationRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "automation": run.automation_id,
        "version": run.version.number,
        "occurrence": run.occurrence,
        "trigger_type": run.trigger_type,
        "object_type": run.object_type,
        "object_id": run.object_id,
        "object_repr": run.object_repr,
        "event": run.event,
        "inputs": run.inputs,
        "condition_result": run.condition_result,
        "condition_detail": run.condition_detail,
        "outcomes": run.outcomes,
        "status": run.status,
        "depth": run.depth,
        "created_at": run.created_at.isoformat(),
    }
