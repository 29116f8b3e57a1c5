"""Default schedules of the audit log: the sealer every minute (it bounds the time a row stays
unsealed) and the hourly checkpoint of the hash chain."""

from credo.core.scheduling.registry import register_schedule

register_schedule("audit.seal", "credo.core.audit.tasks.seal", "* * * * *")
register_schedule("audit.checkpoint", "credo.core.audit.tasks.checkpoint", "7 * * * *")
