"""The optional month-end provision run (schedule ``lending.provisions_month_end``, disabled by
default: finance enables it on the schedules page and names the user it runs as)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from credo.core import clock


@task()
def provisions_month_end(username: str = "") -> dict[str, Any]:
    """Run last month's provisions once its month-end close of business is done. Fired on the
    first days of a month: a day on which the close is not done yet returns the reason and the
    next firing tries again; a month already provisioned posts nothing (the run is idempotent)."""
    from django.contrib.auth import get_user_model

    from credo.lending.books.selectors import month_start, prev_month
    from credo.lending.errors import LendingError
    from credo.lending.provisions.services import provision_run, run_blockers

    month = prev_month(month_start(clock.today()))
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        return {"month": month.strftime("%Y-%m"), "skipped": "no user configured"}
    blockers = run_blockers(month)
    if blockers:
        return {"month": month.strftime("%Y-%m"), "skipped": blockers[0]}
    try:
        run, created = provision_run(month=month, actor=user)
    except LendingError as exc:
        return {"month": month.strftime("%Y-%m"), "skipped": exc.message}
    return {"month": run.label, "run": run.pk, "created": created, "posted": run.posted}
