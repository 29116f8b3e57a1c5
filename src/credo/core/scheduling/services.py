"""Writes for schedules and task runs (every one audited)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tasks.exceptions import InvalidTaskError
from django_tasks_db.models import DBTaskResult

from credo.core.audit.services import audit_record, diff_fields
from credo.core.scheduling.cron import cron_error
from credo.core.scheduling.models import Schedule
from credo.core.scheduling.scheduler import fire


class SchedulingError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def schedule_update(
    *, schedule: Schedule, actor: Any, cron: str | None = None, enabled: bool | None = None
) -> Schedule:
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
        before = {"cron": schedule.cron, "enabled": schedule.enabled}
        if cron is not None:
            cron = " ".join(cron.split())
            error = cron_error(cron)
            if error:
                raise SchedulingError(error)
            schedule.cron = cron
        if enabled is not None:
            schedule.enabled = enabled
        after = {"cron": schedule.cron, "enabled": schedule.enabled}
        changes = diff_fields(before, after)
        if not changes:
            return schedule
        if before["cron"] != after["cron"] or (enabled and not before["enabled"]):
            # Start counting from now: re-enabling must not fire slots missed while disabled.
            schedule.last_slot = timezone.now().replace(microsecond=0)
        schedule.save()
        audit_record(action="schedule.update", actor=actor, obj=schedule, changes=changes)
    return schedule


def schedule_run_now(*, schedule: Schedule, actor: Any) -> str:
    """Enqueue the schedule's task now (outside its cron). Returns the task result id."""
    fired = fire(schedule, timezone.now(), manual=True)
    if fired is None or not fired.task_result_id:
        raise SchedulingError(_("任务无法加入队列，请检查任务路径或队列配置"))
    audit_record(
        action="schedule.run_now",
        actor=actor,
        obj=schedule,
        metadata={"task_path": schedule.task_path, "task_result_id": fired.task_result_id},
    )
    return fired.task_result_id


def task_retry(*, run: DBTaskResult, actor: Any) -> str:
    """Enqueue the failed run's task again with the same arguments; returns the new id."""
    if run.status != "FAILED":
        raise SchedulingError(_("只有失败的任务可以重试"))
    try:
        task = import_string(run.task_path)
    except ImportError as exc:
        raise SchedulingError(_("任务已不存在：%(path)s") % {"path": run.task_path}) from exc
    args = run.args_kwargs.get("args", [])
    kwargs = run.args_kwargs.get("kwargs", {})
    with transaction.atomic():
        try:
            result = task.using(queue_name=run.queue_name, priority=run.priority).enqueue(
                *args, **kwargs
            )
        except InvalidTaskError as exc:
            raise SchedulingError(_("任务无法加入队列：%(err)s") % {"err": exc}) from exc
        audit_record(
            action="task.retry",
            actor=actor,
            object_type="django_tasks_db.dbtaskresult",
            object_id=str(run.pk),
            object_repr=run.task_path[:200],
            metadata={"new_task_result_id": str(result.id), "queue": run.queue_name},
        )
    return str(result.id)
