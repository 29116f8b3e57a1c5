"""Scheduled jobs of collections."""

from credo.core.scheduling.registry import register_schedule

register_schedule("collections.reminders", "credo.collections.tasks.reminders", "0 9 * * *")
