"""Periodic jobs of the scorecard app."""

from credo.core.scheduling.registry import register_schedule

register_schedule("scorecard.psi_monthly", "credo.scorecard.tasks.psi_monthly", "0 6 1 * *")
