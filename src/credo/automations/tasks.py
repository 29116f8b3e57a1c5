"""Tasks of automations: the periodic scan (alerts, cron) and the daily scan after the close."""

from __future__ import annotations

import datetime as dt

from django_tasks import task


@task()
def automations_scan() -> dict[str, int]:
    from credo.automations.engine import scan_periodic

    return scan_periodic()


@task()
def automations_daily(business_date: str) -> dict[str, int]:
    from credo.automations.engine import scan_daily

    return scan_daily(dt.date.fromisoformat(business_date))
