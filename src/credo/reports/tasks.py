from __future__ import annotations

from typing import Any

from django_tasks import task


@task(queue_name="default")
def deliver_due() -> int:
    from credo.reports.services import run_due_schedules

    return run_due_schedules()


def after_eod(run: Any) -> None:
    """Close of business done: the day's portfolio snapshot and, on a month end, the month-end
    DPD history behind vintage curves and roll rates."""
    from credo.reports import services, standard

    services.snapshot_refresh(run.business_date)
    services.due_summary_refresh(run.business_date)
    standard.monthend_capture(run.business_date)
