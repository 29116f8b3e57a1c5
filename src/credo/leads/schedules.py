"""Periodic jobs of the leads app."""

from credo.core.scheduling.registry import register_schedule

register_schedule("leads.assign_unassigned", "credo.leads.tasks.assign_unassigned", "*/10 * * * *")
register_schedule(
    "leads.follow_up_reminders", "credo.leads.tasks.follow_up_reminders", "30 8 * * *"
)
