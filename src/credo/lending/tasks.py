"""Background tasks of the lending app: the close-of-business batch (日终批处理)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from credo.core import clock


@task()
def eod_chunk(chunk_id: int) -> dict[str, int]:
    """Process one EOD chunk (a loan-id range) in its own transaction; safe to run twice."""
    from credo.lending.eod import process_chunk

    return process_chunk(chunk_id)


@task()
def eod_nightly() -> int:
    """Nightly: run yesterday's close of business (catching up missed days), chunks queued."""
    from credo.lending.eod import run_eod

    run = run_eod(clock.today() - dt.timedelta(days=1), inline=False)
    return run.pk
