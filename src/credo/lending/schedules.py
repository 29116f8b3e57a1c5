"""Scheduled jobs of lending."""

from credo.core.scheduling.registry import register_schedule

register_schedule("lending.eod_nightly", "credo.lending.tasks.eod_nightly", "30 1 * * *")
