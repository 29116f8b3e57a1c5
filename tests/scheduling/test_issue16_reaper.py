"""Issue 16 (9): a claimed task whose worker died is reaped (re-queued, then failed after the
cap) instead of staying RUNNING forever, and the task page shows stuck and reaped runs."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from credo.core.audit.models import AuditEntry
from credo.core.scheduling import reaper
from credo.core.scheduling.models import TaskReap, WorkerLease
from credo.core.scheduling.registry import registered_schedules
from tests.scheduling import tasks

LEASE = 600
TASK = "tests.scheduling.tasks.record"


@pytest.fixture(autouse=True)
def _lease(settings):
    settings.CREDO_TASK_LEASE_SECONDS = LEASE
    settings.CREDO_TASK_MAX_ATTEMPTS = 3


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def claimed(
    worker: str = "host-a:4242:dead01",
    started_s_ago: float = LEASE + 100,
    earlier_workers: tuple[str, ...] = (),
    task_path: str = TASK,
    kwargs: dict | None = None,
) -> DBTaskResult:
    """A task as django-tasks-db's worker leaves it after ``claim()``."""
    return DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status="RUNNING",
        args_kwargs={"args": [], "kwargs": kwargs or {"n": 1}},
        task_path=task_path,
        queue_name="default",
        backend_name="default",
        run_after=get_date_max(),
        started_at=ago(started_s_ago),
        worker_ids=[*earlier_workers, worker],
        exception_class_path="",
        traceback="",
    )


def lease(worker: str, beat_s_ago: float) -> WorkerLease:
    return WorkerLease.objects.create(
        worker_id=worker, hostname="host-a", pid=4242, heartbeat_at=ago(beat_s_ago)
    )


# --- the reaper ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_claim_of_a_live_worker_is_left_alone():
    run = claimed(started_s_ago=LEASE * 3)  # a long task ...
    lease(run.worker_ids[-1], beat_s_ago=20)  # ... whose worker still renews its lease
    assert reaper.stale_claims() == []
    assert reaper.reap_stale_tasks(reaper="r1") == []
    run.refresh_from_db()
    assert run.status == "RUNNING"


@pytest.mark.django_db
def test_claim_younger_than_the_lease_is_never_stale():
    claimed(started_s_ago=LEASE - 60)  # no lease row at all, but claimed within the lease
    assert reaper.reap_stale_tasks(reaper="r1") == []


@pytest.mark.django_db
def test_claim_of_a_dead_worker_is_requeued_and_recorded():
    run = claimed()
    lease(run.worker_ids[-1], beat_s_ago=LEASE + 30)
    [reap] = reaper.reap_stale_tasks(reaper="host-b:7:live02")
    run.refresh_from_db()
    assert (run.status, run.started_at, run.finished_at) == ("READY", None, None)
    assert run.worker_ids == ["host-a:4242:dead01"]  # the history of claims is kept
    assert (reap.outcome, reap.attempt, reap.worker_id, reap.reaped_by) == (
        "retried",
        1,
        "host-a:4242:dead01",
        "host-b:7:live02",
    )
    assert "host-a:4242:dead01" in reap.reason and "已重新排队" in reap.reason
    entry = AuditEntry.objects.get(action="task.reaped")
    assert entry.object_id == str(run.pk)
    assert entry.metadata["outcome"] == "retried"
    # nothing left to reap
    assert reaper.reap_stale_tasks(reaper="host-b:7:live02") == []


@pytest.mark.django_db
def test_claim_without_any_lease_is_reaped_after_the_lease():
    run = claimed(worker="plain-db-worker")  # e.g. a worker killed before its first beat
    [reap] = reaper.reap_stale_tasks(reaper="r1")
    assert reap.heartbeat_at is None and "最后心跳：无" in reap.reason
    run.refresh_from_db()
    assert run.status == "READY"


@pytest.mark.django_db
def test_two_reapers_with_the_same_view_retry_once(monkeypatch):
    run = claimed()
    seen = reaper.stale_claims()
    assert [c.run.pk for c in seen] == [run.pk]
    monkeypatch.setattr(reaper, "stale_claims", lambda now=None: seen)
    first = reaper.reap_stale_tasks(reaper="r1")
    second = reaper.reap_stale_tasks(reaper="r2")  # read the same RUNNING row before r1 wrote
    assert len(first) == 1 and second == []
    assert TaskReap.objects.count() == 1
    assert AuditEntry.objects.filter(action="task.reaped").count() == 1


@pytest.mark.django_db
def test_stale_view_does_not_touch_a_new_claim(monkeypatch):
    run = claimed()
    seen = reaper.stale_claims()
    reaper.reap_stale_tasks(reaper="r1")
    # a live worker claims the re-queued task ...
    DBTaskResult.objects.filter(pk=run.pk).update(
        status="RUNNING", started_at=timezone.now(), worker_ids=[*run.worker_ids, "w2"]
    )
    # ... and a slow reaper acting on its old view must not take it back
    monkeypatch.setattr(reaper, "stale_claims", lambda now=None: seen)
    assert reaper.reap_stale_tasks(reaper="r2") == []
    run.refresh_from_db()
    assert (run.status, run.worker_ids[-1]) == ("RUNNING", "w2")


@pytest.mark.django_db
def test_after_the_cap_the_task_fails_with_the_reason(client: Client, task_admin):
    run = claimed(worker="w3", earlier_workers=("w1", "w2"))
    lease("w3", beat_s_ago=LEASE + 5)
    [reap] = reaper.reap_stale_tasks(reaper="r1")
    run.refresh_from_db()
    assert run.status == "FAILED" and run.finished_at is not None
    assert run.exception_class_path == reaper.LEASE_EXPIRED
    assert "w3" in run.traceback and "已达最多 3 次领取" in run.traceback
    assert (reap.outcome, reap.attempt) == ("failed", 3)
    # an operator can still retry it by hand (a new run)
    client.force_login(task_admin)
    client.post(f"/system/tasks/runs/{run.pk}/retry/")
    assert tasks.CALLS == [{"n": 1}]


@pytest.mark.django_db
def test_listener_next_to_the_task_hears_of_the_reap(django_capture_on_commit_callbacks):
    heard = []

    def fn(reap, args, kwargs):
        heard.append((reap.outcome, args, kwargs))

    reaper.register_reap_listener(TASK, fn)
    try:
        claimed(kwargs={"n": 9})
        with django_capture_on_commit_callbacks(execute=True):
            reaper.reap_stale_tasks(reaper="r1")
    finally:
        reaper.unregister_reap_listener(TASK, fn)
    assert heard == [("retried", [], {"n": 9})]


@pytest.mark.django_db
def test_heartbeat_renews_the_lease():
    reaper.heartbeat("w9", queues="default")
    first = WorkerLease.objects.get(pk="w9")
    WorkerLease.objects.filter(pk="w9").update(heartbeat_at=ago(LEASE + 1))
    run = claimed(worker="w9")
    assert [c.run.pk for c in reaper.stale_claims()] == [run.pk]
    reaper.heartbeat("w9")
    assert reaper.stale_claims() == []
    assert WorkerLease.objects.get(pk="w9").started_at == first.started_at


@pytest.mark.django_db
def test_reaper_is_a_registered_schedule_and_task():
    [spec] = [s for s in registered_schedules() if s.name == "scheduling.reap_stale_tasks"]
    assert spec.task_path == "credo.core.scheduling.tasks.reap_stale_tasks"
    from credo.core.scheduling.tasks import reap_stale_tasks

    claimed()
    assert reap_stale_tasks.call() == 1


@pytest.mark.django_db(transaction=True)
def test_worker_reaps_a_dead_workers_claim_then_runs_it(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    result = tasks.record.enqueue(n=5)
    # a worker claimed it and was killed: RUNNING, its lease long expired
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", started_at=ago(LEASE + 50), worker_ids=["dead:1:aaaaaa"]
    )
    lease("dead:1:aaaaaa", beat_s_ago=LEASE + 40)
    call_command("worker", batch=True, startup_delay=False, interval=0, worker_id="live:2:bbbbbb")
    run = DBTaskResult.objects.get(pk=result.id)
    assert run.status == "SUCCESSFUL"
    assert run.worker_ids == ["dead:1:aaaaaa", "live:2:bbbbbb"]
    assert tasks.CALLS == [{"n": 5}]
    reap = TaskReap.objects.get(task_result=run)
    assert (reap.worker_id, reap.reaped_by, reap.outcome) == (
        "dead:1:aaaaaa",
        "live:2:bbbbbb",
        "retried",
    )
    live = WorkerLease.objects.get(pk="live:2:bbbbbb")
    assert live.stopped_at is not None  # the worker says when it left


# --- the task page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_task_page_shows_stuck_then_reaped_runs(client: Client, task_viewer):
    run = claimed(worker="host-a:4242:dead01")
    lease("host-a:4242:dead01", beat_s_ago=LEASE + 30)
    fresh = claimed(worker="host-c:1:alive1", task_path="tests.scheduling.tasks.explode")
    lease("host-c:1:alive1", beat_s_ago=5)
    client.force_login(task_viewer)
    text = client.get("/system/tasks/").content.decode()
    assert "1 个任务疑似卡住" in text
    assert text.count('data-testid="stuck"') == 1
    assert "host-a:4242:dead01" in text
    stuck_only = client.get("/system/tasks/", {"status": "STUCK"}).context["page"].object_list
    assert [r.pk for r in stuck_only] == [run.pk]
    detail = client.get(f"/system/tasks/runs/{run.pk}/").content.decode()
    assert "疑似卡住" in detail and "host-a" in detail

    reaper.reap_stale_tasks(reaper="host-b:7:live02")
    text = client.get("/system/tasks/").content.decode()
    assert "疑似卡住" not in text.split("<table")[1]
    assert 'data-testid="reaped"' in text and "已回收重试" in text
    assert "回收自工作进程 host-a:4242:dead01" in text
    reaped_only = client.get("/system/tasks/", {"status": "REAPED"}).context["page"].object_list
    assert [r.pk for r in reaped_only] == [run.pk]
    assert fresh.pk not in [r.pk for r in reaped_only]
    detail = client.get(f"/system/tasks/runs/{run.pk}/").content.decode()
    assert 'data-testid="reaps-table"' in detail
    assert "host-b:7:live02" in detail and "已重新排队" in detail
