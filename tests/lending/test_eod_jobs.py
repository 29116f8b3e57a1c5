"""The after-close pipeline (日终后续作业): jobs isolated from the close and from each other,
retries, idempotency per business date, catch-up order, queued mode, the run page."""

# ruff: noqa: F811 — the fixtures of test_eod are imported, then named as test parameters

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from django.urls import reverse

from credo.core.audit.models import AuditEntry
from credo.core.audit.services import audit_record
from credo.lending import eod
from credo.lending.eod import jobs as eod_jobs
from credo.lending.eod.common import after_close_jobs
from credo.lending.models import EodJob, EodRun, Loan
from tests.lending.test_eod import bullet_loan, eod_urls, eod_user  # noqa: F401 — fixtures

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def only_test_jobs():
    """The registry holds only what the test registers (the apps' jobs are restored after)."""
    saved = after_close_jobs.items()
    after_close_jobs.clear()
    yield
    after_close_jobs.clear()
    for key, item in saved:
        after_close_jobs.register(key, item)


@contextlib.contextmanager
def _locked_elsewhere(lock: Callable[[], object]) -> Iterator[None]:
    """``lock()`` (a ``select_for_update``) held by another connection until the block ends."""
    import threading

    from django.db import connections, transaction

    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                lock()
                held.set()
                release.wait(30)
        finally:
            connections.close_all()

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(30)
    try:
        yield
    finally:
        release.set()
        t.join(30)


def _jobs(run: EodRun) -> dict[str, EodJob]:
    return {j.key: j for j in EodJob.objects.filter(run=run)}


def test_registry_orders_by_order_then_registration(only_test_jobs):
    eod.register_after_close_job("c", lambda run: None, label="丙", order=5)
    eod.register_after_close_job("a", lambda run: None, label="甲")
    eod.register_after_close_job("b", lambda run: None, label="乙", order=5)
    assert [j.key for j in eod.after_close_job_list()] == ["c", "b", "a"]


def test_apps_register_their_jobs():
    assert {"monitoring", "collections", "reports"} <= set(after_close_jobs.keys())
    for job in after_close_jobs:
        assert str(job.label) and str(job.label) != job.key


def test_failing_job_neither_fails_the_run_nor_blocks_the_others(only_test_jobs, bullet_loan):
    calls: list[str] = []

    def boom(run):
        audit_record(action="test.partial_write", actor=None, obj=run)
        raise RuntimeError("下游服务不可用")

    eod.register_after_close_job("first", boom, label="会失败的作业", order=1)
    eod.register_after_close_job(
        "second", lambda run: calls.append("second") or {"rows": 3}, label="正常作业", order=2
    )
    run = eod.run_eod(D(2026, 4, 16))
    assert run.status == EodRun.Status.DONE and run.error == ""
    jobs = _jobs(run)
    assert jobs["first"].status == "failed" and "下游服务不可用" in jobs["first"].error
    assert jobs["first"].attempts == 1 and jobs["first"].duration is not None
    assert jobs["second"].status == "done" and jobs["second"].result == {"rows": 3}
    assert calls == ["second"]
    # the failed job's own writes were rolled back (its savepoint), its failure is audited
    assert not AuditEntry.objects.filter(action="test.partial_write").exists()
    assert AuditEntry.objects.filter(action="lending.eod_job_failed").count() == 1
    assert Loan.objects.get(pk=bullet_loan.pk).last_eod_date == D(2026, 4, 16)


def test_rerun_of_the_date_completes_only_the_failed_job(only_test_jobs, bullet_loan):
    calls: list[str] = []
    state = {"fail": True}

    def flaky(run):
        calls.append("flaky")
        if state["fail"]:
            raise RuntimeError("暂时失败")
        return {"rows": 1}

    eod.register_after_close_job("flaky", flaky, label="偶发失败")
    eod.register_after_close_job("steady", lambda run: calls.append("steady"), label="稳定")
    run = eod.run_eod(D(2026, 4, 16))
    assert _jobs(run)["flaky"].status == "failed"
    state["fail"] = False
    again = eod.run_eod(D(2026, 4, 16))  # the run is DONE: only its open jobs run
    assert again.pk == run.pk
    jobs = _jobs(run)
    assert jobs["flaky"].status == "done" and jobs["flaky"].attempts == 2
    assert jobs["flaky"].error == ""
    assert jobs["steady"].attempts == 1
    assert calls == ["flaky", "steady", "flaky"]  # a DONE job is never run again
    eod.run_eod(D(2026, 4, 16))
    assert calls == ["flaky", "steady", "flaky"]


def test_catch_up_runs_the_jobs_of_each_day_in_order(only_test_jobs, bullet_loan):
    seen: list[tuple[dt.date, dt.date]] = []

    def record(run):
        loan = Loan.objects.get(pk=bullet_loan.pk)
        seen.append((run.business_date, loan.last_eod_date))

    eod.register_after_close_job("record", record, label="记录")
    eod.run_eod(D(2026, 4, 14))
    eod.run_eod(D(2026, 4, 17))
    # each day's job ran after that day's close and before the next day's
    assert seen == [(D(2026, 4, d), D(2026, 4, d)) for d in (14, 15, 16, 17)]


def test_queued_mode_creates_one_task_per_job(
    only_test_jobs, bullet_loan, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[int] = []
    monkeypatch.setattr(eod_jobs, "enqueue_job", lambda job_id, **kw: queued.append(job_id))
    eod.register_after_close_job("a", lambda run: {"rows": 1}, label="甲")
    eod.register_after_close_job("b", lambda run: None, label="乙")
    with django_capture_on_commit_callbacks(execute=True):
        run = eod.run_eod(D(2026, 4, 16), inline=False)
    assert run.status == "done"
    jobs = _jobs(run)
    assert sorted(queued) == sorted(j.pk for j in jobs.values())
    assert {j.status for j in jobs.values()} == {"pending"}
    from credo.lending.tasks import eod_job

    for job_id in queued:
        eod_job.call(job_id)
    assert {j.status for j in _jobs(run).values()} == {"done"}
    eod_job.call(queued[0])  # a duplicate delivery: done, not run again
    assert _jobs(run)["a"].attempts == 1


def test_queued_job_retried_automatically_up_to_the_limit(
    only_test_jobs, bullet_loan, settings, django_capture_on_commit_callbacks
):
    settings.CREDO_TASK_MAX_ATTEMPTS = 3
    attempts = {"flaky": 0, "broken": 0}

    def flaky(run):
        attempts["flaky"] += 1
        if attempts["flaky"] < 2:
            raise RuntimeError("第一次失败")
        return {"rows": 2}

    def broken(run):
        attempts["broken"] += 1
        raise ValueError("一直失败")

    eod.register_after_close_job("flaky", flaky, label="偶发失败")
    eod.register_after_close_job("broken", broken, label="总是失败")
    with django_capture_on_commit_callbacks(execute=True):
        run = eod.run_eod(D(2026, 4, 16), inline=False)  # immediate backend in tests
    jobs = _jobs(run)
    assert (jobs["flaky"].status, jobs["flaky"].attempts) == ("done", 2)
    assert (jobs["broken"].status, jobs["broken"].attempts) == ("failed", 3)
    assert attempts == {"flaky": 2, "broken": 3}
    assert run.status == "done" and eod_jobs.jobs_settled(run)


def test_queued_catch_up_starts_the_next_day_after_the_jobs(
    only_test_jobs, bullet_loan, django_capture_on_commit_callbacks
):
    seen: list[dt.date] = []
    eod.register_after_close_job("record", lambda run: seen.append(run.business_date), label="记")
    eod.run_eod(D(2026, 4, 14))
    with django_capture_on_commit_callbacks(execute=True):
        eod.run_eod(D(2026, 4, 16), inline=False)
    assert seen == [D(2026, 4, 14), D(2026, 4, 15), D(2026, 4, 16)]
    assert EodRun.objects.filter(status="done").count() == 3


def test_a_job_no_longer_registered_fails_with_a_reason(only_test_jobs, bullet_loan):
    eod.register_after_close_job("gone", lambda run: 1 / 0, label="将移除")
    run = eod.run_eod(D(2026, 4, 16))
    job = _jobs(run)["gone"]
    assert job.status == "failed" and "ZeroDivisionError" in job.error
    eod.unregister_after_close_job("gone")
    eod_jobs.job_retry(job, actor=None, inline=True)
    job.refresh_from_db()
    assert job.status == "failed" and "未注册" in job.error and job.attempts == 2


def test_reaper_giving_up_fails_the_job(only_test_jobs, bullet_loan):
    from credo.core.scheduling.models import TaskReap
    from credo.lending.tasks import _eod_job_reaped

    eod.register_after_close_job("x", lambda run: None, label="某作业")
    run = eod.run_eod(D(2026, 4, 16), inline=False)
    job = _jobs(run)["x"]
    assert job.status == "pending"
    reap = TaskReap(outcome=TaskReap.Outcome.FAILED, reason="worker lost")
    _eod_job_reaped(reap, [job.pk], {})
    job.refresh_from_db()
    assert job.status == "failed" and "worker lost" in job.error


# --- the run page ----------------------------------------------------------------------------


def test_page_shows_jobs_and_retry_completes_a_failed_one(
    only_test_jobs, client, eod_urls, eod_user, bullet_loan
):
    state = {"fail": True}

    def reminders(run):
        if state["fail"]:
            raise RuntimeError("短信网关超时")
        return {"sent": 7, "mystery_key": 2}

    eod.register_after_close_job(
        "test.reminders",
        reminders,
        label="还款提醒作业",
        result_labels={"sent": "已发短信"},
    )
    eod.register_after_close_job("test.ok", lambda run: {"rows": 5}, label="报表作业")
    run = eod.run_eod(D(2026, 4, 16))
    client.force_login(eod_user)
    page = client.get(reverse("lending_eod:run_detail", args=[run.pk])).content.decode()
    assert "后续作业" in page and "还款提醒作业" in page and "报表作业" in page
    assert "短信网关超时" in page and "重试" in page and "行数 5" in page
    listing = client.get(reverse("lending_eod:runs")).content.decode()
    assert "1 个失败" in listing and "1/2" in listing

    job = _jobs(run)["test.reminders"]
    state["fail"] = False
    url = reverse("lending_eod:job_retry", args=[run.pk, job.pk])
    response = client.post(url)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "done" and job.attempts == 2
    entry = AuditEntry.objects.get(action="lending.eod_job_retry")
    assert entry.actor_id == eod_user.pk
    page = client.get(reverse("lending_eod:run_detail", args=[run.pk])).content.decode()
    assert "已发短信 7" in page and "其他 2" in page
    assert "mystery_key" not in page and "test.reminders" not in page.replace(
        'data-job="test.reminders"', ""
    )
    # a done job cannot be retried
    client.post(url)
    job.refresh_from_db()
    assert job.attempts == 2


def test_retry_requires_the_eod_permission(only_test_jobs, client, eod_urls, outsider, bullet_loan):
    eod.register_after_close_job("x", lambda run: 1 / 0, label="某作业")
    run = eod.run_eod(D(2026, 4, 16))
    job = _jobs(run)["x"]
    client.force_login(outsider)
    response = client.post(reverse("lending_eod:job_retry", args=[run.pk, job.pk]))
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == "failed" and job.attempts == 1


# --- several workers ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_run_a_job_and_a_chunk_once(only_test_jobs, bullet_loan, monkeypatch):
    """Two workers given the same job (a duplicate delivery) and the same chunk: SKIP LOCKED
    lets exactly one of them do the work; the other returns at once. Another job of the same
    run is not held up by the first (the run row is not locked with the job's)."""
    import threading
    import time

    from django.db import connection, connections

    from credo.lending.eod import runs

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    calls: list[int] = []
    started = threading.Event()

    def slow(run):
        calls.append(1)
        started.set()
        time.sleep(1.0)
        return {"rows": 1}

    eod.register_after_close_job("slow", slow, label="慢作业")
    eod.register_after_close_job("quick", lambda run: {"rows": 2}, label="快作业")
    monkeypatch.setattr(eod_jobs, "enqueue_job", lambda job_id, **kw: None)  # queued, not run
    eod.run_eod(D(2026, 4, 15), inline=False)  # the chunk runs (immediate backend)
    run = EodRun.objects.get(business_date=D(2026, 4, 15))
    job = _jobs(run)["slow"]
    results: list[object] = []

    def worker() -> None:
        try:
            results.append(eod_jobs.job_execute(job.pk))
        finally:
            connections.close_all()

    first_worker = threading.Thread(target=worker)
    first_worker.start()
    assert started.wait(30)
    second = eod_jobs.job_execute(job.pk)  # while the first holds it
    other = eod_jobs.job_execute(_jobs(run)["quick"].pk)  # the run's other job is not blocked
    assert other is not None and other.status == "done"
    first_worker.join(30)
    assert second is None or second.status == "done"
    job.refresh_from_db()
    assert calls == [1] and job.status == "done" and job.attempts == 1

    # a chunk held by one worker is left alone by the next one
    next_run = runs._prepare_run(D(2026, 4, 16), actor=None, chunk_size=5000)
    [chunk] = next_run.chunks.all()
    from credo.lending.models import EodChunk

    with _locked_elsewhere(lambda: EodChunk.objects.select_for_update().get(pk=chunk.pk)):
        assert eod.process_chunk(chunk.pk) == eod.common.empty_counts()
        chunk.refresh_from_db()
        assert chunk.status == "pending" and chunk.attempts == 0
    assert eod.process_chunk(chunk.pk)["loans"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_job_is_claimed_while_the_run_row_is_locked(only_test_jobs, bullet_loan, monkeypatch):
    """EodJob's default ordering joins the run: a claim without ``of=self`` locked the run row
    too, so a sibling job claimed at the same moment (another worker or thread) found it locked
    and was skipped — its task ended and the job stayed pending for good."""

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    eod.register_after_close_job("quick", lambda run: {"rows": 2}, label="快作业")
    monkeypatch.setattr(eod_jobs, "enqueue_job", lambda job_id, **kw: None)  # queued, not run
    eod.run_eod(D(2026, 4, 15), inline=False)
    run = EodRun.objects.get(business_date=D(2026, 4, 15))
    # a concurrent claim of a sibling job (another worker or thread) held the run row
    with _locked_elsewhere(lambda: EodRun.objects.select_for_update().get(pk=run.pk)):
        job = eod_jobs.job_execute(_jobs(run)["quick"].pk)
    assert job is not None and job.status == "done" and job.result == {"rows": 2}


@pytest.mark.django_db(transaction=True)
def test_inline_close_runs_chunks_and_jobs_on_threads(only_test_jobs, bullet_loan):
    """``run_eod(workers=2)``: the chunks and then the jobs on two threads, each job run once
    and DONE, in the caller's language; the progress callback in the calling thread."""
    import threading
    import time

    from django.db import connection
    from django.utils import translation

    if connection.vendor != "postgresql":
        pytest.skip("threads are used on PostgreSQL only")
    ran: dict[str, tuple[int, str]] = {}

    def job(key):
        def fn(run):
            ran[key] = (threading.get_ident(), translation.get_language())
            time.sleep(0.3)
            return {"rows": 1}

        return fn

    for n, key in enumerate(("a", "b", "c", "d")):
        eod.register_after_close_job(key, job(key), label=f"作业{n}", order=n)
    progress: list[int] = []
    started = time.perf_counter()
    with translation.override("en"):
        run = eod.run_eod(
            D(2026, 4, 15),
            workers=2,
            progress=lambda r: progress.append(threading.get_ident()),
        )
    elapsed = time.perf_counter() - started
    assert run.status == "done" and run.loans_done == 1
    assert progress == [threading.get_ident()]
    jobs = _jobs(run)
    assert {k: (j.status, j.attempts) for k, j in jobs.items()} == {k: ("done", 1) for k in "abcd"}
    assert {lang for _t, lang in ran.values()} == {"en"}
    assert len({t for t, _l in ran.values()}) == 2  # both threads took jobs
    assert elapsed < 1.1  # four 0.3 s jobs on two threads
    bullet_loan.refresh_from_db()
    assert bullet_loan.last_eod_date == D(2026, 4, 15)


@pytest.mark.django_db(transaction=True)
def test_inline_close_with_a_failing_chunk_fails_the_run_on_threads(
    only_test_jobs, bullet_loan, monkeypatch
):
    from django.db import connection

    from credo.lending.eod import runs

    if connection.vendor != "postgresql":
        pytest.skip("threads are used on PostgreSQL only")

    def broken(*args, **kwargs):
        raise RuntimeError("数据库连接中断")

    monkeypatch.setattr(runs, "process_range", broken)
    run = eod.run_eod(D(2026, 4, 15), workers=2)
    assert run.status == "failed" and "数据库连接中断" in run.error
    assert not EodJob.objects.filter(run=run).exists()  # the jobs wait for a done run


def test_workers_must_be_positive(bullet_loan):
    with pytest.raises(eod.EodError, match="并行线程数"):
        eod.run_eod(D(2026, 4, 15), workers=0)
