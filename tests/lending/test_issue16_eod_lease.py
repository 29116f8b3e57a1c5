"""Issue 16 (9): a worker killed inside a close-of-business chunk. The chunk's work rolls back
with its connection, its claim stays visible, the reaper re-queues its task once the worker's
lease lapses, and running the chunk again completes the day exactly once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from credo.core.money import Money
from credo.core.scheduling import reaper
from credo.core.scheduling.models import TaskReap, WorkerLease
from credo.lending import eod
from credo.lending.eod import closing as _closing  # noqa: F401 - eod.closing below
from credo.lending.models import EodChunk, EodRun, Loan
from tests.lending.test_eod import bullet_loan, first  # noqa: F401 - the fixture is used

D = dt.date
LEASE = 600
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _lease(settings):
    settings.CREDO_TASK_LEASE_SECONDS = LEASE
    settings.CREDO_TASK_MAX_ATTEMPTS = 3


class Killed(BaseException):
    """Stands for the process dying: nothing below the chunk's transaction handles it."""


@pytest.mark.django_db
def test_killed_inside_a_chunk_leaves_nothing_half_done_and_the_rerun_completes(
    bullet_loan,  # noqa: F811
    monkeypatch,
):
    eod.run_eod(D(2026, 4, 15))
    run = eod.runs._prepare_run(D(2026, 4, 16), actor=None, chunk_size=5000)
    [chunk] = run.chunks.all()

    def die(*args, **kwargs):
        raise Killed

    # after the set-based marking, before the per-loan results are written
    monkeypatch.setattr(eod.closing, "_write_back", die)
    with pytest.raises(Killed):
        eod.process_chunk(chunk.pk)
    monkeypatch.undo()

    bullet_loan.refresh_from_db()
    inst = first(bullet_loan)
    assert (inst.status, inst.penalty_due) == ("due", Money.from_fen(0))  # marking rolled back
    assert (bullet_loan.last_eod_date, bullet_loan.dpd) == (D(2026, 4, 15), 0)
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts) == ("pending", 1)
    assert chunk.claimed_by == reaper.worker_identity() and chunk.claimed_at is not None
    run.refresh_from_db()
    assert (run.status, run.chunks_done) == ("running", 0)

    counts = eod.process_chunk(chunk.pk)
    assert counts["penalty_fen"] == 500 and counts["became_overdue"] == 1
    run.refresh_from_db()
    assert run.status == "done" and run.counts["penalty_fen"] == 500
    assert first(bullet_loan).penalty_due == Money("5.00")
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts) == ("done", 2)
    # idempotent: a third run (e.g. a duplicate task) changes nothing and claims nothing
    assert eod.process_chunk(chunk.pk) == counts
    assert first(bullet_loan).penalty_due == Money("5.00")
    chunk.refresh_from_db()
    assert chunk.attempts == 2


@pytest.mark.django_db
def test_chunk_given_up_by_the_reaper_fails_its_run_which_resumes(
    bullet_loan,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    eod.run_eod(D(2026, 4, 15))
    run = eod.runs._prepare_run(D(2026, 4, 16), actor=None, chunk_size=5000)
    [chunk] = run.chunks.all()
    claimed_at = timezone.now() - timedelta(seconds=LEASE + 60)
    EodChunk.objects.filter(pk=chunk.pk).update(
        claimed_by="host-a:9:dead03", claimed_at=claimed_at, attempts=3
    )
    task = DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status="RUNNING",
        args_kwargs={"args": [chunk.pk], "kwargs": {}},
        task_path="credo.lending.tasks.eod_chunk",
        queue_name="default",
        backend_name="default",
        run_after=get_date_max(),
        started_at=claimed_at,
        worker_ids=["host-a:9:dead01", "host-a:9:dead02", "host-a:9:dead03"],
        exception_class_path="",
        traceback="",
    )
    with django_capture_on_commit_callbacks(execute=True):
        [reap] = reaper.reap_stale_tasks(reaper="r1")
    assert reap.outcome == "failed"
    task.refresh_from_db()
    assert task.status == "FAILED"
    run.refresh_from_db()
    assert run.status == "failed"
    assert "host-a:9:dead03" in run.error and str(chunk.first_loan_id) in run.error
    chunk.refresh_from_db()
    assert chunk.status == "failed"
    # 重新执行 resumes the day; the failed chunk runs once
    run = eod.run_eod(D(2026, 4, 16))
    assert run.status == "done" and run.counts["penalty_fen"] == 500
    assert first(bullet_loan).penalty_due == Money("5.00")


def _wait(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


WORKER_SCRIPT = """
import os, sys
import django
import tests.settings as s
s.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
django.setup()
from django.core.management import call_command
call_command("worker", startup_delay=False, interval=0.1, worker_id=sys.argv[1])
"""


@pytest.mark.django_db(transaction=True)
def test_worker_killed_inside_a_chunk_is_reaped_and_the_day_completes(
    bullet_loan,  # noqa: F811
    settings,
):
    if connection.vendor != "postgresql":
        pytest.skip("a killed worker's rollback is observed on PostgreSQL")
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    eod.run_eod(D(2026, 4, 15))
    run = eod.run_eod(D(2026, 4, 16), inline=False)  # the chunk is queued
    [chunk] = run.chunks.all()
    [queued] = DBTaskResult.objects.filter(task_path="credo.lending.tasks.eod_chunk")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    dead = "host-k:1:killed"
    with transaction.atomic():
        # hold the loan so the worker stops inside the chunk's transaction, then kill it there
        Loan.objects.select_for_update().get(pk=bullet_loan.pk)
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", WORKER_SCRIPT, dead], cwd=ROOT, env=env
        )
        try:
            _wait(lambda: EodChunk.objects.get(pk=chunk.pk).claimed_by == dead)
            time.sleep(1.0)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=30)
    queued.refresh_from_db()
    assert (queued.status, queued.worker_ids) == ("RUNNING", [dead])  # what issue 16 saw
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts, chunk.claimed_by) == ("pending", 1, dead)
    bullet_loan.refresh_from_db()
    assert bullet_loan.last_eod_date == D(2026, 4, 15)  # nothing of the chunk committed
    assert WorkerLease.objects.filter(pk=dead, stopped_at__isnull=True).exists()

    # the lease lapses (moved back in time rather than waited for)
    past = timedelta(seconds=LEASE + 30)
    DBTaskResult.objects.filter(pk=queued.pk).update(started_at=queued.started_at - past)
    WorkerLease.objects.filter(pk=dead).update(heartbeat_at=timezone.now() - past)

    live = "host-l:2:live"
    call_command("worker", batch=True, startup_delay=False, interval=0, worker_id=live)
    queued.refresh_from_db()
    assert (queued.status, queued.worker_ids) == ("SUCCESSFUL", [dead, live])
    reap = TaskReap.objects.get(task_result=queued)
    assert (reap.worker_id, reap.reaped_by, reap.outcome, reap.attempt) == (
        dead,
        live,
        "retried",
        1,
    )
    run = EodRun.objects.get(business_date=D(2026, 4, 16))
    assert run.status == "done" and run.counts["penalty_fen"] == 500
    assert first(bullet_loan).penalty_due == Money("5.00")  # once, not twice
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts, chunk.claimed_by) == ("done", 2, live)
