from __future__ import annotations

import logging
from typing import Any

from django_tasks import task

logger = logging.getLogger(__name__)


@task(queue_name="default")
def deliver_due() -> int:
    from credo.reports.services import run_due_schedules

    return run_due_schedules()


def after_eod(run: Any) -> None:
    """Close of business done: the day's portfolio snapshot and, on a month end, the month-end
    DPD history behind vintage curves and roll rates. All three are built from the live book, so
    a run for a date before the book's date (a later close already done) writes nothing: its
    frozen figures are kept rather than overwritten with today's."""
    from credo.reports import services, standard

    try:
        services.check_snapshot_date(run.business_date)
    except services.ReportError as exc:
        logger.warning("report snapshot of %s skipped: %s", run.business_date, exc.message)
        return
    services.snapshot_refresh(run.business_date)
    services.due_summary_refresh(run.business_date)
    standard.monthend_capture(run.business_date)
