"""Scheduled jobs of monitoring."""

from credo.core.scheduling.registry import register_schedule

register_schedule("monitoring.nightly", "credo.monitoring.tasks.monitoring_nightly", "30 4 * * *")
