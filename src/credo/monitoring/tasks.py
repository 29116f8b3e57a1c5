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
