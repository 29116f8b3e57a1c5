"""The periodic scan: alerts raised and schedule (cron) triggers, every minute."""

from credo.core.scheduling.registry import register_schedule

register_schedule("automations.scan", "credo.automations.tasks.automations_scan", "* * * * *")
