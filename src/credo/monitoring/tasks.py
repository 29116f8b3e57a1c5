"""Background tasks of the monitoring app."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from credo.core import clock


@task()
def monitoring_run(business_date: str) -> dict[str, int]:
    from credo.monitoring.batch import run_monitoring

    return run_monitoring(dt.date.fromisoformat(business_date))


@task()
def monitoring_nightly() -> dict[str, int]:
    """Fallback schedule: the day's run after EOD (the EOD-done listener normally runs it)."""
    from credo.monitoring.batch import run_monitoring

    return run_monitoring(clock.today() - dt.timedelta(days=1))


@task()
def monitoring_escalate() -> dict[str, int]:
    """Every 15 minutes: push alerts not pushed yet (e.g. created before pushing existed, or a
    push that failed), then escalate the alerts past their SLA."""
    from credo.monitoring.push import alerts_escalate, alerts_push

    counts = alerts_push(None, source="sweep")
    counts.update(alerts_escalate())
    return dict(counts)


@task()
def monitoring_digest() -> dict[str, int]:
    from credo.monitoring.push import alerts_digest

    return dict(alerts_digest())


@task()
def monitoring_sameday() -> dict[str, int]:
    """The loans recorded by the same-day consumer, re-checked as of today."""
    from credo.monitoring.sameday import run_sameday

    return run_sameday()
