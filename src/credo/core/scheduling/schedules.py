"""Default schedules of the scheduling app itself."""

from credo.core.scheduling.registry import register_schedule

register_schedule(
    "scheduling.reap_stale_tasks",
    "credo.core.scheduling.tasks.reap_stale_tasks",
    "*/5 * * * *",
)
