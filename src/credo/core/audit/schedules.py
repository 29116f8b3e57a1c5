"""Default schedule of the audit log: the hourly checkpoint of the hash chain."""

from credo.core.scheduling.registry import register_schedule

register_schedule("audit.checkpoint", "credo.core.audit.tasks.checkpoint", "7 * * * *")
