"""Reads for the task-run and schedule pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from credo.core.scheduling.cron import cron_error, next_slot
from credo.core.scheduling.models import Schedule, TaskReap
from credo.core.scheduling.reaper import StaleClaim, stale_claims

STATUS_LABELS: dict[str, str] = {
    "READY": "排队中",
    "RUNNING": "运行中",
    "SUCCESSFUL": "成功",
    "FAILED": "失败",
}
# Filters beyond the stored status: claims whose worker's lease lapsed (not yet reaped), and
# runs the reaper took back at least once.
LEASE_FILTERS: dict[str, str] = {
    "STUCK": "疑似卡住",
    "REAPED": "曾被回收",
}


def task_runs(*, status: str = "", task: str = "", queue: str = "") -> QuerySet[DBTaskResult]:
    qs = DBTaskResult.objects.order_by("-enqueued_at")
    if status == "STUCK":
        qs = qs.filter(pk__in=[claim.run.pk for claim in stale_claims()])
    elif status == "REAPED":
        qs = qs.filter(pk__in=TaskReap.objects.values("task_result_id"))
    elif status:
        qs = qs.filter(status=status)
    if task:
        qs = qs.filter(task_path__icontains=task)
    if queue:
        qs = qs.filter(queue_name=queue)
    return qs.defer("return_value", "traceback")


def annotate_leases(runs: list[DBTaskResult], stuck: list[StaleClaim]) -> None:
    """Set ``run.stuck`` (its :class:`StaleClaim` or None) and ``run.reaps`` (newest first)."""
    by_run = {claim.run.pk: claim for claim in stuck}
    reaps: dict[Any, list[TaskReap]] = {}
    for reap in TaskReap.objects.filter(task_result_id__in=[run.pk for run in runs]):
        reaps.setdefault(reap.task_result_id, []).append(reap)
    for run in runs:
        run.stuck = by_run.get(run.pk)  # type: ignore[attr-defined]
        run.reaps = reaps.get(run.pk, [])  # type: ignore[attr-defined]


def task_facets() -> dict[str, list[str]]:
    return {
        "queues": sorted(set(DBTaskResult.objects.values_list("queue_name", flat=True).distinct())),
    }


def schedule_rows() -> list[dict[str, Any]]:
    now = timezone.now()
    rows = []
    for schedule in Schedule.objects.order_by("name"):
        nxt: datetime | None = None
        if schedule.enabled and not cron_error(schedule.cron):
            nxt = next_slot(schedule.cron, now)
        rows.append({"schedule": schedule, "next_run": nxt})
    return rows
