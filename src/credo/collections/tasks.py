"""Background tasks of collections: the 09:00 reminders and the after-EOD batch."""

from __future__ import annotations

from django_tasks import task

from credo.core import clock


@task()
def reminders() -> int:
    """Daily 09:00 (Asia/Shanghai): reminders N days before each due date and on the day."""
    from credo.collections.services import reminders_send

    return reminders_send(clock.today())


def on_eod_done(run: object) -> None:
    """EOD done listener: open / re-tier / close cases for the run's business date."""
    from credo.collections.services import cases_refresh

    cases_refresh(run.business_date)  # type: ignore[attr-defined]
