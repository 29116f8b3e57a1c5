"""Issue 19 (6): the close of business on four worker processes at once.

Four ``credo worker`` processes (the database queue, as in production) share a queued close of
business split into small chunks, each chunk's task delivered twice (at-least-once delivery),
then the after-close jobs (also each delivered twice). Every loan is closed exactly once: one
day of 罚息, one DPD step, the counts add up; each chunk and job records the worker that ran it;
the run ends DONE with every job DONE after exactly one execution.

PostgreSQL only (the workers are separate processes sharing the test database).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from credo.core.audit.models import AuditEntry
from credo.core.scheduling.models import WorkerLease
from credo.lending import eod, services
from credo.lending.allocation import due_components, penalty_for_day
from credo.lending.models import EodChunk, EodRun, Installment, Loan
from credo.lending.tasks import eod_chunk
from tests.lending.conftest import (  # noqa: F401 (fixtures)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)

ROOT = Path(__file__).resolve().parents[2]
D = dt.date
LOANS, CHUNK_SIZE, WORKERS = 12, 2, 4
DUE, CLOSE = D(2026, 2, 15), D(2026, 2, 16)  # first installments due; the day they turn overdue

WORKER_SCRIPT = """
import os, sys
import django
import tests.settings as s
s.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                       "QUEUES": ["default", "batch", "notify"]}}
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
django.setup()
from django.core.management import call_command
call_command("worker", startup_delay=False, interval=0.1, worker_id=sys.argv[1])
"""


def _state() -> str:
    """What is still open (the message of a timeout)."""
    lines = [f"run {r.business_date} {r.status} {r.error[:200]}" for r in EodRun.objects.all()]
    EodJob = _eod_job_model()
    if EodJob is not None:
        lines += [
            f"job {j.key} {j.status} attempts={j.attempts} by={j.claimed_by} {j.error[:300]}"
            for j in EodJob.objects.all()
        ]
    lines += [
        f"task {t.task_path} {t.status} run_after={t.run_after} workers={t.worker_ids}"
        for t in DBTaskResult.objects.filter(status__in=["READY", "RUNNING"])
    ]
    lines += [
        f"failed {t.task_path} {t.exception_class_path} {t.traceback[-600:]}"
        for t in DBTaskResult.objects.filter(status="FAILED")
    ]
    return "\n".join(lines)


def _wait(predicate, what: str, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}:\n{_state()}")


def _eod_job_model():
    from credo.lending import models

    return getattr(models, "EodJob", None)


@pytest.fixture
def db_queue(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "batch", "notify"],
        }
    }


@pytest.fixture
def workers(transactional_db, db_queue):
    """Four ``credo worker`` processes on the test database; stopped (SIGTERM) afterwards."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    ids = [f"many-{n}:{os.getpid()}:w{n}" for n in range(1, WORKERS + 1)]
    procs = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", WORKER_SCRIPT, worker_id],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for worker_id in ids
    ]
    try:
        # every worker holds its lease (it heartbeats before its first claim)
        _wait(lambda: WorkerLease.objects.filter(pk__in=ids).count() == WORKERS, "4 leases")
        yield ids
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


@pytest.fixture
def book(make_loan, finance):  # noqa: F811
    """Twelve equal loans, closed inline up to the day their first installment is due."""
    if connection.vendor != "postgresql":
        pytest.skip("worker processes share the test database on PostgreSQL")
    loans = [
        services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
        for _ in range(LOANS)
    ]
    eod.run_eod(DUE)
    return [loan.pk for loan in loans]


def _close_on_the_workers(book: list[int], *, jobs_twice: bool) -> tuple[EodRun, dict]:
    """Queue the close of ``CLOSE`` in small chunks, each chunk's task enqueued twice (and each
    after-close job's, with ``jobs_twice``); return once the run is DONE and no task is queued
    or running. Also returns each loan and its first installment as they were before."""
    before = {
        loan.pk: (loan, loan.installments.get(period=1))
        for loan in Loan.objects.filter(pk__in=book)
    }
    assert {inst.status for _, inst in before.values()} == {Installment.Status.DUE}
    assert {inst.penalty_due.fen for _, inst in before.values()} == {0}

    run = eod.run_eod(CLOSE, inline=False, chunk_size=CHUNK_SIZE)
    chunk_ids = list(run.chunks.values_list("id", flat=True))
    assert run.chunks_total == len(chunk_ids) == LOANS // CHUNK_SIZE
    for chunk_id in chunk_ids:  # every chunk delivered twice
        eod_chunk.enqueue(chunk_id)

    EodJob = _eod_job_model()
    if jobs_twice and EodJob is not None:
        from credo.lending.eod.jobs import enqueue_job

        # each job's task delivered twice too, as soon as the last chunk created the rows
        _wait(lambda: EodJob.objects.filter(run_id=run.pk).exists(), "the after-close jobs")
        for job_id in EodJob.objects.filter(run_id=run.pk).values_list("id", flat=True):
            enqueue_job(job_id)

    def finished() -> bool:
        if EodRun.objects.get(pk=run.pk).status != EodRun.Status.DONE:
            return False
        return not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()

    _wait(finished, "the run and every task to finish")
    run.refresh_from_db()
    return run, before


@pytest.mark.django_db(transaction=True)
def test_four_workers_close_every_loan_exactly_once(book, workers):
    run, before = _close_on_the_workers(book, jobs_twice=False)
    assert run.status == EodRun.Status.DONE
    assert (run.chunks_done, run.loans_done, run.loans_total) == (
        run.chunks_total,
        LOANS,
        LOANS,
    )
    assert run.counts["loans"] == LOANS
    assert run.counts["became_overdue"] == LOANS

    # every chunk once: done, its loans counted once, claimed by one of the four workers
    chunks = list(EodChunk.objects.filter(run=run).order_by("first_loan_id"))
    assert {c.status for c in chunks} == {EodChunk.Status.DONE}
    assert sum(c.processed for c in chunks) == LOANS
    assert all(c.claimed_by in workers and c.claimed_at for c in chunks)
    assert all(c.attempts >= 1 for c in chunks)
    tasks = DBTaskResult.objects.filter(task_path="credo.lending.tasks.eod_chunk")
    assert tasks.count() == 2 * len(chunks)
    assert set(tasks.values_list("status", flat=True)) == {"SUCCESSFUL"}
    ran_on = {t.worker_ids[-1] for t in tasks}
    assert ran_on <= set(workers)
    assert len(ran_on) >= 2  # twelve tasks, four idle workers polling: shared, not serialised

    # every loan closed once: one day of 罚息 and 复利, DPD 1, overdue
    penalty_total = 0
    for loan in Loan.objects.filter(pk__in=book):
        old_loan, old_inst = before[loan.pk]
        inst = loan.installments.get(period=1)
        owed = due_components(old_inst)
        # one day of 罚息 on the overdue principal and of 复利 on the overdue interest
        expected = penalty_for_day(old_loan, owed["principal"]) + (
            penalty_for_day(old_loan, owed["interest"]) if old_loan.compound_interest else 0
        )
        assert expected > 0
        assert inst.penalty_due.fen == expected, loan.pk
        assert (loan.last_eod_date, loan.dpd, loan.status) == (CLOSE, 1, Loan.Status.OVERDUE)
        assert inst.status == Installment.Status.OVERDUE
        penalty_total += inst.penalty_due.fen
    assert run.counts["penalty_fen"] == penalty_total
    assert AuditEntry.objects.filter(action="lending.eod_done", object_id=str(run.pk)).count() == 1

    # closing the date again (inline) changes nothing
    assert eod.run_eod(CLOSE).pk == run.pk
    again = Installment.objects.filter(loan_id__in=book, period=1)
    assert sum(i.penalty_due.fen for i in again) == penalty_total


@pytest.mark.django_db(transaction=True)
def test_four_workers_run_each_after_close_job_exactly_once(book, workers):
    EodJob = _eod_job_model()
    if EodJob is None:
        pytest.skip("the after-close jobs (EodJob) are not in this build")
    run, _ = _close_on_the_workers(book, jobs_twice=True)
    jobs = list(EodJob.objects.filter(run=run))
    assert jobs, "after-close jobs are registered"
    states = {j.key: (j.status, j.attempts) for j in jobs}
    assert states == {j.key: (EodJob.Status.DONE, 1) for j in jobs}, _state()
    assert all(j.claimed_by in workers for j in jobs), _state()
    done_audits = AuditEntry.objects.filter(action="lending.eod_job_done", object_id=str(run.pk))
    assert sorted(a.metadata["job"] for a in done_audits) == sorted(j.key for j in jobs)
    job_tasks = DBTaskResult.objects.filter(task_path="credo.lending.tasks.eod_job")
    # each job delivered twice, plus a re-delivery when a task found the row locked for a
    # moment before anyone had started it (a job is never left pending)
    assert job_tasks.count() >= 2 * len(jobs)
    assert set(job_tasks.values_list("status", flat=True)) == {"SUCCESSFUL"}
