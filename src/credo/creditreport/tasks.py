"""Background tasks of the credit-reporting app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django_tasks import task


@task()
def generate_closed_month(month_iso: str) -> dict[str, Any]:
    """After a month-end close (结账): generate that month's submission unless one is live.
    Idempotent — a retry, or the after-close job that catches up, finds it done."""
    from credo.creditreport.services import generate_if_missing

    return generate_if_missing(month=dt.date.fromisoformat(month_iso))
