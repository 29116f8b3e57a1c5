"""Background tasks of the scorecard app."""

from __future__ import annotations

from django_tasks import task


@task()
def train_scorecard(scorecard_id: int) -> str:
    """Train a version queued from the page or the API (progress is written on the row)."""
    from credo.scorecard.services import scorecard_train_run

    return scorecard_train_run(scorecard_id).status


@task()
def psi_monthly() -> str:
    """1st of each month: stability of last month's application scores (alert above the limit)."""
    from credo.scorecard.services import psi_check

    check = psi_check()
    return "skipped" if check is None else f"{check.month}: {check.psi}"
