"""In-code default schedules. Apps call :func:`register_schedule` in ``ready()``;
:func:`sync_schedules` creates the missing rows and never overwrites an admin's edits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from credo.core.registry import Registry
from credo.core.scheduling.cron import cron_error


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    task_path: str
    cron: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str = "default"
    enabled: bool = True


#: name → default schedule; the first registration of a name wins.
schedules: Registry[ScheduleSpec] = Registry("default schedules", on_duplicate="keep")


def register_schedule(
    name: str,
    task_path: str,
    cron: str,
    *,
    kwargs: dict[str, Any] | None = None,
    queue: str = "default",
    enabled: bool = True,
) -> None:
    error = cron_error(cron)
    if error:
        raise ValueError(f"schedule {name!r}: {error}")
    schedules.register(
        name, ScheduleSpec(name, task_path, cron, dict(kwargs or {}), queue, enabled)
    )


def registered_schedules() -> list[ScheduleSpec]:
    return schedules.values()


def sync_schedules() -> int:
    """Create rows for registered schedules that have none; returns how many were created."""
    from credo.core.scheduling.models import Schedule

    created = 0
    for spec in schedules:
        _obj, was_created = Schedule.objects.get_or_create(
            name=spec.name,
            defaults={
                "task_path": spec.task_path,
                "cron": spec.cron,
                "kwargs": spec.kwargs,
                "queue": spec.queue,
                "enabled": spec.enabled,
            },
        )
        created += int(was_created)
    return created
