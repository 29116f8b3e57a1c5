"""Default schedules of the open API."""

from credo.core.scheduling.registry import register_schedule

register_schedule(
    "api.purge_idempotency_keys",
    "credo.api.tasks.purge_idempotency_keys",
    "10 3 * * *",
)
