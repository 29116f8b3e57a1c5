"""Background tasks of the lending app: the close-of-business batch (日终批处理) and its
after-close jobs (日终后续作业)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django_tasks import task

from credo.core import clock
from credo.core.scheduling.models import TaskReap
from credo.core.scheduling.reaper import register_reap_listener


@task()
def eod_chunk(chunk_id: int) -> dict[str, int]:
    """Process one EOD chunk (a loan-id range) in its own transaction; safe to run twice."""
    from credo.lending.eod import process_chunk

    return process_chunk(chunk_id)


@task()
def eod_job(job_id: int) -> dict[str, Any]:
    """Run one after-close job of a finished close of business (idempotent per business date:
    a DONE job is left alone). A failure is recorded on the job and retried automatically, up
    to ``CREDO_TASK_MAX_ATTEMPTS`` attempts, after a short pause when the backend can defer."""
    from credo.lending.eod.jobs import job_execute, job_retry_later
    from credo.lending.eod.runs import job_finished

    job = job_execute(job_id)
    if job is None:  # its row was locked: another worker runs it — or held it for a moment
        from credo.lending.eod.jobs import enqueue_job
        from credo.lending.models import EodJob

        if EodJob.objects.filter(pk=job_id, status=EodJob.Status.PENDING).exists():
            # nobody has started it: deliver again shortly (never leave it pending for good)
            enqueue_job(job_id, delay_seconds=2)
            return {"job": job_id, "status": "requeued"}
        return {"job": job_id, "status": "busy"}
    if not job_retry_later(job):
        job_finished(job_id)
    return {"job": job_id, "status": job.status, "attempts": job.attempts}


@task()
def eod_nightly() -> int:
    """Nightly: run yesterday's close of business (catching up missed days), chunks queued.

    If someone already closed a later date by hand (today's, from the page), yesterday is
    covered: the nightly run does nothing rather than fail on the past-date refusal."""
    from credo.lending.eod import last_done_date, run_eod
    from credo.lending.models import EodRun

    day = clock.today() - dt.timedelta(days=1)
    last = last_done_date()
    if last is not None and last > day:
        return EodRun.objects.get(business_date=last).pk
    run = run_eod(day, inline=False)
    return run.pk


@task()
def eod_sweep() -> dict[str, int]:
    """Every minute under RQ: re-deliver the chunks and after-close jobs of workers that died
    (the database queue's reaper does this for its own task rows)."""
    from credo.core.scheduling.backends import uses_rq
    from credo.lending.eod.runs import eod_sweep as sweep

    if not uses_rq():
        return {}
    return sweep()


def _eod_chunk_reaped(reap: TaskReap, args: list[Any], kwargs: dict[str, Any]) -> None:
    """A re-queued chunk needs nothing (the retry resumes it); a chunk given up fails its run."""
    if reap.outcome != TaskReap.Outcome.FAILED:
        return
    from credo.lending.eod import chunk_abandon

    chunk_id = kwargs.get("chunk_id", args[0] if args else None)
    if chunk_id is not None:
        chunk_abandon(int(chunk_id), reason=reap.reason)


def _eod_job_reaped(reap: TaskReap, args: list[Any], kwargs: dict[str, Any]) -> None:
    """A job's task given up (its claims kept losing their worker): the job is marked failed."""
    if reap.outcome != TaskReap.Outcome.FAILED:
        return
    from credo.lending.eod.jobs import job_abandon
    from credo.lending.eod.runs import job_finished

    job_id = kwargs.get("job_id", args[0] if args else None)
    if job_id is not None:
        job_abandon(int(job_id), reason=reap.reason)
        job_finished(int(job_id))


register_reap_listener("credo.lending.tasks.eod_chunk", _eod_chunk_reaped)
register_reap_listener("credo.lending.tasks.eod_job", _eod_job_reaped)
