"""Scheduled jobs of approvals."""

from credo.core.scheduling.registry import register_schedule

register_schedule("approvals.escalate", "credo.approvals.tasks.escalate_overdue", "*/15 * * * *")
