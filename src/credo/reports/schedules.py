"""Default schedules of the reports."""

from credo.core.scheduling.registry import register_schedule

register_schedule("reports.deliver_due", "credo.reports.tasks.deliver_due", "*/5 * * * *")
