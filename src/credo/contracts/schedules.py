"""Scheduled jobs of contracts."""

from credo.core.scheduling.registry import register_schedule

register_schedule("contracts.expire", "credo.contracts.tasks.expire_contracts", "15 2 * * *")
