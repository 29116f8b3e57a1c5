"""Scheduled jobs of notify: the sender runs every minute."""

from credo.core.scheduling.registry import register_schedule

register_schedule("notify.send_due", "credo.notify.tasks.send_due", "* * * * *")
