"""Moving a demo forward in time (``credo demo advance --days N``), never in production.

Each step moves the business clock (:mod:`credo.core.clock`) one day ahead and then runs every
enabled schedule that would have fired on that day, in the order of its first firing time,
exactly as the scheduler and a worker would: the close of business for the day just ended, the
monitoring and collections runs after it, the 09:00 reminders, the notification outbox, and so
on. Tasks run in this process (the immediate task backend), so the demo needs no worker for it.
A schedule that fires many times a day runs once per day here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from croniter import croniter
from django.conf import settings
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record


class DemoClockError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class DayResult:
    business_date: dt.date
    ran: list[tuple[str, Any]] = field(default_factory=list)


def first_firing(expr: str, day: dt.date) -> dt.datetime | None:
    """The first slot of ``expr`` on ``day`` (server time zone), or None if it does not fire."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    nxt: dt.datetime = croniter(expr, start - dt.timedelta(seconds=1)).get_next(dt.datetime)
    return nxt if nxt.date() == day else None


def _immediate_tasks() -> dict[str, Any]:
    queues = settings.TASKS.get("default", {}).get("QUEUES", ["default"])
    return {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": list(queues),
        }
    }


def demo_advance(
    days: int, *, actor: Any = None, progress: Callable[[DayResult], None] | None = None
) -> list[DayResult]:
    """Advance the demo's business date by ``days`` days, one day at a time."""
    from credo.core.scheduling.models import Schedule
    from credo.core.scheduling.registry import sync_schedules

    if settings.ENVIRONMENT == "production":
        raise DemoClockError(_("生产环境不能移动业务日期（演示时钟仅用于演示与评估）。"))
    if not 1 <= days <= 366:
        raise DemoClockError(_("天数必须在 1 到 366 之间。"))
    sync_schedules()
    results = []
    for _i in range(days):
        clock.set_offset_days(clock.offset_days() + 1)
        day = clock.today()
        audit_record(
            action="demo.clock_advance",
            actor=actor,
            metadata={"business_date": day.isoformat(), "offset_days": clock.offset_days()},
        )
        result = DayResult(business_date=day)
        due = []
        for schedule in Schedule.objects.filter(enabled=True):
            when = first_firing(schedule.cron, day)
            if when is not None:
                due.append((when, schedule.name, schedule))
        due.sort(key=lambda item: (item[0], item[1]))
        with override_settings(TASKS=_immediate_tasks()):
            for _when, name, schedule in due:
                task = import_string(schedule.task_path)
                try:
                    value = task.call(**(schedule.kwargs or {}))
                except Exception as exc:
                    raise DemoClockError(
                        _("%(d)s 的定时任务 %(n)s 失败：%(e)s")
                        % {"d": day.isoformat(), "n": name, "e": exc}
                    ) from exc
                result.ran.append((name, value))
        results.append(result)
        if progress is not None:
            progress(result)
    return results
