"""Reads for the task-run and schedule pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from credo.core.scheduling.cron import cron_error, next_slot
from credo.core.scheduling.models import Schedule

STATUS_LABELS: dict[str, str] = {
    "READY": "排队中",
    "RUNNING": "运行中",
    "SUCCESSFUL": "成功",
    "FAILED": "失败",
}


def task_runs(*, status: str = "", task: str = "", queue: str = "") -> QuerySet[DBTaskResult]:
    qs = DBTaskResult.objects.order_by("-enqueued_at")
    if status:
        qs = qs.filter(status=status)
    if task:
        qs = qs.filter(task_path__icontains=task)
    if queue:
        qs = qs.filter(queue_name=queue)
    return qs.defer("return_value", "traceback")


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
