"""Issue 19: under RQ a worker that dies inside a close-of-business chunk or an after-close job
leaves no task row for the reaper; ``eod_sweep`` re-delivers the work once the worker's lease
lapsed, and gives it up with the reason after the attempt limit (the run no longer shows
运行中 for good)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from credo.core.audit.models import AuditEntry
from credo.core.scheduling.models import WorkerLease
from credo.lending import eod
from credo.lending.eod import jobs as eod_jobs
from credo.lending.eod.common import after_close_jobs
from credo.lending.models import EodChunk, EodJob, EodRun
from tests.lending.test_eod import bullet_loan  # noqa: F401 - the fixture is used

pytestmark = pytest.mark.django_db

D = dt.date
LEASE = 600
DEAD = "deadhost:4242:abcdef"


@pytest.fixture(autouse=True)
def _lease(settings):
    settings.CREDO_TASK_LEASE_SECONDS = LEASE
    settings.CREDO_TASK_MAX_ATTEMPTS = 3


@pytest.fixture
def queued(monkeypatch):
    """What the sweep queues: ('chunk', id) and ('job', id)."""
    from credo.lending import tasks

    out: list[tuple[str, int]] = []

    class _Chunk:
        @staticmethod
        def enqueue(chunk_id):
            out.append(("chunk", chunk_id))

    monkeypatch.setattr(tasks, "eod_chunk", _Chunk)
    monkeypatch.setattr(eod_jobs, "enqueue_job", lambda job_id, **kw: out.append(("job", job_id)))
    return out


def _dead_claim(chunk: EodChunk, *, attempts: int, heartbeat_ago: int = 2 * LEASE) -> None:
    long_ago = timezone.now() - dt.timedelta(seconds=heartbeat_ago)
    WorkerLease.objects.update_or_create(
        worker_id=DEAD, defaults={"heartbeat_at": long_ago, "hostname": "deadhost", "pid": 4242}
    )
    EodChunk.objects.filter(pk=chunk.pk).update(
        claimed_by=DEAD, claimed_at=long_ago, attempts=attempts
    )


def test_a_dead_workers_chunk_is_delivered_again_and_the_day_completes(
    bullet_loan,  # noqa: F811
    queued,
):
    eod.run_eod(D(2026, 4, 15))
    run = eod.runs._prepare_run(D(2026, 4, 16), actor=None, chunk_size=5000)
    [chunk] = run.chunks.all()
    _dead_claim(chunk, attempts=1)

    out = eod.runs.eod_sweep()
    assert out["chunks_requeued"] == 1 and queued == [("chunk", chunk.pk)]
    chunk.refresh_from_db()
    assert chunk.claimed_by == "" and chunk.status == EodChunk.Status.PENDING
    assert AuditEntry.objects.filter(action="lending.eod_sweep").exists()
    # a second sweep before the new delivery ran changes nothing (no claim to take back)
    assert not any(eod.runs.eod_sweep().values())
    # the re-delivered chunk completes the day
    eod.process_chunk(chunk.pk, queue_jobs=False)
    run.refresh_from_db()
    assert run.status == EodRun.Status.DONE and run.loans_done == 1


def test_a_live_worker_or_a_fresh_claim_is_left_alone(bullet_loan, queued):  # noqa: F811
    eod.run_eod(D(2026, 4, 15))
    run = eod.runs._prepare_run(D(2026, 4, 16), actor=None, chunk_size=5000)
    [chunk] = run.chunks.all()
    _dead_claim(chunk, attempts=1, heartbeat_ago=10)  # renewing its lease: still working
    EodChunk.objects.filter(pk=chunk.pk).update(
        claimed_at=timezone.now() - dt.timedelta(seconds=2 * LEASE)
    )
    assert not any(eod.runs.eod_sweep().values())
    assert queued == []


def test_a_chunk_that_keeps_losing_its_worker_is_given_up_with_the_reason(
    bullet_loan,  # noqa: F811
    queued,
):
    eod.run_eod(D(2026, 4, 15))
    run = eod.runs._prepare_run(D(2026, 4, 16), actor=None, chunk_size=5000)
    [chunk] = run.chunks.all()
    _dead_claim(chunk, attempts=3)
    out = eod.runs.eod_sweep()
    assert out["chunks_abandoned"] == 1 and queued == []
    run.refresh_from_db()
    chunk.refresh_from_db()
    assert run.status == EodRun.Status.FAILED and DEAD in run.error
    assert chunk.status == EodChunk.Status.FAILED


def test_a_dead_workers_after_close_job_is_retried_then_given_up(
    bullet_loan,  # noqa: F811
    queued,
    monkeypatch,
):
    saved = after_close_jobs.items()
    after_close_jobs.clear()
    try:
        eod.register_after_close_job("a", lambda run: {"rows": 1}, label="甲")
        monkeypatch.setattr(eod_jobs, "jobs_enqueue", lambda run: 1)
        run = eod.run_eod(D(2026, 4, 16), inline=False)
        eod_jobs.jobs_ensure(run)
        queued.clear()  # the run's own chunk task
        job = EodJob.objects.get(run=run, key="a")
        long_ago = timezone.now() - dt.timedelta(seconds=2 * LEASE)
        WorkerLease.objects.create(worker_id=DEAD, heartbeat_at=long_ago, hostname="d", pid=1)
        EodJob.objects.filter(pk=job.pk).update(
            status=EodJob.Status.RUNNING, claimed_by=DEAD, started_at=long_ago, attempts=0
        )
        assert eod.runs.eod_sweep()["jobs_requeued"] == 1
        assert queued == [("job", job.pk)]
        job.refresh_from_db()
        assert job.attempts == 1 and job.claimed_by == ""
        # it dies twice more: the third lost attempt gives it up
        for _ in range(2):
            EodJob.objects.filter(pk=job.pk).update(claimed_by=DEAD, started_at=long_ago)
            eod.runs.eod_sweep()
        job.refresh_from_db()
        assert job.status == EodJob.Status.FAILED and DEAD in job.error
    finally:
        after_close_jobs.clear()
        for key, item in saved:
            after_close_jobs.register(key, item)


def test_the_scheduled_sweep_acts_only_under_rq(bullet_loan, queued):  # noqa: F811
    from credo.lending.tasks import eod_sweep

    assert eod_sweep.call() == {}
