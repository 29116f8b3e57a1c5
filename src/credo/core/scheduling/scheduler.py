"""The scheduler tick: enqueue each enabled schedule's latest due slot exactly once.

Two schedulers may run at the same time (high availability): both compute the same slot and
race to INSERT the (schedule, slot) firing row; the unique constraint lets exactly one win and
only the winner enqueues. After downtime only the latest missed slot fires (no storm).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from credo.core.scheduling.cron import cron_error, latest_slot
from credo.core.scheduling.models import Schedule, ScheduleFiring

logger = logging.getLogger("credo.scheduling")


@dataclass(frozen=True)
class Fired:
    schedule: str
    slot: datetime
    task_result_id: str


def enqueue_schedule_task(schedule: Schedule) -> Any:
    task = import_string(schedule.task_path)
    return task.using(queue_name=schedule.queue).enqueue(**(schedule.kwargs or {}))


def due_slot(schedule: Schedule, now: datetime) -> datetime | None:
    """The slot to fire now, or None. A new schedule fires only for slots after it was
    created; an old one fires only the latest slot after its ``last_slot``."""
    if cron_error(schedule.cron):
        return None
    slot = latest_slot(schedule.cron, now)
    baseline = schedule.last_slot or schedule.created_at
    if schedule.last_slot is None:
        baseline = baseline.replace(microsecond=0)
        return slot if slot >= baseline else None
    return slot if slot > schedule.last_slot else None


def fire(schedule: Schedule, slot: datetime, *, manual: bool = False) -> Fired | None:
    """INSERT the firing, then enqueue. Returns None when another scheduler already fired it."""
    try:
        with transaction.atomic():
            firing = ScheduleFiring.objects.create(schedule=schedule, slot=slot, manual=manual)
            if not manual:
                Schedule.objects.filter(pk=schedule.pk).update(last_slot=slot)
    except IntegrityError:
        logger.info("schedule %s slot %s already fired elsewhere", schedule.name, slot)
        return None
    # Enqueued after the firing commits: a broken task path must not make every tick retry.
    try:
        result = enqueue_schedule_task(schedule)
    except Exception:
        logger.exception("schedule %s: could not enqueue %s", schedule.name, schedule.task_path)
        return Fired(schedule.name, slot, "")
    firing.task_result_id = str(result.id)
    firing.save(update_fields=["task_result_id"])
    return Fired(schedule.name, slot, firing.task_result_id)


def tick(now: datetime | None = None) -> list[Fired]:
    now = now or timezone.now()
    fired: list[Fired] = []
    for schedule in Schedule.objects.filter(enabled=True).order_by("pk"):
        slot = due_slot(schedule, now)
        if slot is None:
            continue
        outcome = fire(schedule, slot)
        if outcome is not None:
            fired.append(outcome)
    return fired
