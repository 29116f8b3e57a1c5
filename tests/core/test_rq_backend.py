"""Issue 19 (6): Redis/RQ as the task backend (``CREDO_TASK_BACKEND=rq``), against the local Redis.

Each pytest-xdist worker uses its own Redis database (9–15) and removes only RQ's keys there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus

from credo.core.scheduling import reaper
from credo.core.scheduling.backends import uses_rq
from tests.core.settings_probe import settings_in_subprocess

ROOT = Path(__file__).resolve().parents[2]
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
QUEUES = ["default", "batch", "notify"]


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def whoami() -> str:
    return reaper.worker_identity()


@task()
def explode() -> None:
    raise ValueError("boom")


def _redis_db() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    n = int(worker[2:]) if worker[2:].isdigit() else 0
    return 9 + n % 7


def _redis_url() -> str:
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{_redis_db()}"


def _clean(client) -> None:
    keys = list(client.scan_iter("rq:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(_redis_url())
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_HOST}:{REDIS_PORT}")
    _clean(client)
    yield client
    _clean(client)
    client.close()


@pytest.fixture
def rq_settings(settings, redis_client):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": QUEUES}}
    settings.RQ_QUEUES = {name: {"URL": _redis_url(), "DEFAULT_TIMEOUT": 600} for name in QUEUES}
    return settings


def _burst(*queues: str) -> None:
    """An RQ worker in this process (no fork) that runs what is queued, then returns."""
    from django_rq.workers import get_worker

    worker = get_worker(
        *(queues or QUEUES), job_class="django_tasks_rq.Job", worker_class="rq.SimpleWorker"
    )
    worker.work(burst=True)


def _settings_in_subprocess(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import json, credo.settings as s; print(json.dumps({'backend': "
        "s.TASKS['default']['BACKEND'], 'queues': s.TASKS['default']['QUEUES'], "
        "'rq': getattr(s, 'RQ_QUEUES', None), 'django_rq': 'django_rq' in s.INSTALLED_APPS}))"
    )
    return settings_in_subprocess(code, env, unset=["REDIS_URL", "CREDO_TASK_BACKEND"])


def test_settings_default_is_the_database_queue():
    proc = _settings_in_subprocess({})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out == {
        "backend": "django_tasks_db.DatabaseBackend",
        "queues": QUEUES,
        "rq": None,
        "django_rq": False,
    }


def test_settings_rq_uses_redis_with_the_same_queues():
    proc = _settings_in_subprocess({"CREDO_TASK_BACKEND": "rq", "REDIS_URL": "redis://r:6379/2"})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["backend"] == "django_tasks_rq.RQBackend" and out["django_rq"] is True
    assert out["queues"] == QUEUES
    assert out["rq"] == {
        name: {"URL": "redis://r:6379/2", "DEFAULT_TIMEOUT": 3600} for name in QUEUES
    }
    # a separate task Redis (no eviction) wins over the cache's
    proc = _settings_in_subprocess(
        {
            "CREDO_TASK_BACKEND": "django_tasks_rq.RQBackend",
            "REDIS_URL": "redis://cache:6379/0",
            "CREDO_TASK_REDIS_URL": "redis://tasks:6379/0",
            "CREDO_RQ_JOB_TIMEOUT": "900",
        }
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["rq"]["batch"] == {"URL": "redis://tasks:6379/0", "DEFAULT_TIMEOUT": 900}


def test_settings_rq_without_redis_is_refused():
    proc = _settings_in_subprocess({"CREDO_TASK_BACKEND": "rq"})
    assert proc.returncode != 0
    assert "CREDO_TASK_BACKEND=rq needs REDIS_URL" in proc.stderr


def test_enqueue_then_a_worker_runs_it(rq_settings, redis_client):
    assert uses_rq()
    result = add.enqueue(2, 3)
    assert result.status == TaskResultStatus.READY
    assert redis_client.llen("rq:queue:default") == 1
    batch = add.using(queue_name="batch").enqueue(4, 5)
    assert redis_client.llen("rq:queue:batch") == 1

    _burst()

    done = add.get_result(result.id)
    assert done.status == TaskResultStatus.SUCCESSFUL and done.return_value == 5
    assert add.get_result(batch.id).return_value == 9
    assert redis_client.llen("rq:queue:default") == 0 == redis_client.llen("rq:queue:batch")


def test_a_failing_task_is_failed_with_its_exception(rq_settings):
    result = explode.enqueue()
    _burst("default")
    failed = explode.get_result(result.id)
    assert failed.status == TaskResultStatus.FAILED
    assert failed.errors[-1].exception_class_path == "builtins.ValueError"
    assert "boom" in failed.errors[-1].traceback


@pytest.mark.django_db
def test_scheduler_enqueues_into_redis(rq_settings, redis_client):
    from credo.core.scheduling.models import Schedule, ScheduleFiring
    from credo.core.scheduling.scheduler import fire

    schedule = Schedule.objects.create(
        name="rq-add",
        task_path="tests.core.test_rq_backend.add",
        cron="* * * * *",
        kwargs={"a": 20, "b": 22},
        queue="notify",
    )
    slot = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    fired = fire(schedule, slot)
    assert fired is not None and fired.task_result_id
    assert ScheduleFiring.objects.get(schedule=schedule).task_result_id == fired.task_result_id
    assert redis_client.llen("rq:queue:notify") == 1
    assert fire(schedule, slot) is None  # a second scheduler's tick enqueues nothing
    assert redis_client.llen("rq:queue:notify") == 1
    _burst("notify")
    assert add.get_result(fired.task_result_id).return_value == 42


@pytest.mark.django_db
def test_reaper_leaves_database_rows_alone_under_rq(rq_settings):
    from django_tasks_db.models import DBTaskResult, get_date_max

    claimed_at = timezone.now() - timedelta(seconds=reaper.lease_seconds() + 60)
    row = DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status="RUNNING",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="tests.core.test_rq_backend.whoami",
        queue_name="default",
        backend_name="default",
        run_after=get_date_max(),
        started_at=claimed_at,
        worker_ids=["host-a:1:dead"],
        exception_class_path="",
        traceback="",
    )
    assert reaper.reap_stale_tasks(reaper="r1") == []
    row.refresh_from_db()
    assert row.status == "RUNNING"
    # the same row is reaped on the database queue
    rq_settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": QUEUES}
    }
    assert [r.outcome for r in reaper.reap_stale_tasks(reaper="r1")] == ["retried"]


@pytest.mark.django_db(transaction=True)
def test_credo_worker_runs_rq_jobs_in_forked_work_horses(rq_settings, tmp_path):
    """`credo worker --batch` with CREDO_TASK_BACKEND=rq, as a separate process with the
    production settings module: it drains the queues (burst), each job in a forked work horse
    that knows its worker's id, and records its lease."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker process shares the test database on PostgreSQL")
    from credo.core.scheduling.models import WorkerLease

    first = whoami.enqueue()
    second = add.using(queue_name="batch").enqueue(1, 1)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "credo.settings",
        "CREDO_TASK_BACKEND": "rq",
        "REDIS_URL": _redis_url(),
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    worker_id = "host-rq:1:abc123"
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "credo", "worker", "--batch", "--worker-id", worker_id],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    done = whoami.get_result(first.id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == worker_id
    assert done.worker_ids == [worker_id]
    assert add.get_result(second.id).return_value == 2
    lease = WorkerLease.objects.get(pk=worker_id)
    assert lease.stopped_at is not None and "batch" in lease.queues
