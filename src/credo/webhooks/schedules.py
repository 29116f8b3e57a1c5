"""Scheduled jobs of webhooks: the sender sweeps due retries every minute."""

from credo.core.scheduling.registry import register_schedule

register_schedule("webhooks.send_due", "credo.webhooks.tasks.send_due", "* * * * *")
