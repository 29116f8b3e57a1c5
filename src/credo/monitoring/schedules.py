"""Scheduled jobs of monitoring."""

from credo.core.scheduling.registry import register_schedule

register_schedule("monitoring.nightly", "credo.monitoring.tasks.monitoring_nightly", "30 4 * * *")
# pushed alerts: SLA escalation (and any alert not yet pushed), the daily digest, and a sweep of
# same-day checks whose task was lost
register_schedule(
    "monitoring.escalate", "credo.monitoring.tasks.monitoring_escalate", "*/15 * * * *"
)
register_schedule("monitoring.digest", "credo.monitoring.tasks.monitoring_digest", "30 8 * * *")
register_schedule("monitoring.sameday", "credo.monitoring.tasks.monitoring_sameday", "*/30 * * * *")
