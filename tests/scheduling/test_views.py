from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from credo.core.audit.models import AuditEntry
from credo.core.scheduling.models import Schedule, ScheduleFiring
from tests.scheduling import tasks

pytestmark = pytest.mark.django_db


def make_run(status="FAILED", task_path="tests.scheduling.tasks.record", kwargs=None, **kw):
    now = timezone.now()
    return DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status=status,
        args_kwargs={"args": [], "kwargs": kwargs or {"n": 7}},
        task_path=task_path,
        queue_name=kw.pop("queue_name", "default"),
        backend_name="default",
        run_after=now,
        started_at=now,
        finished_at=now + timedelta(seconds=1),
        exception_class_path="builtins.RuntimeError" if status == "FAILED" else "",
        traceback="Traceback (most recent call last):\nRuntimeError: 数据库超时"
        if status == "FAILED"
        else "",
        worker_ids=["w1"],
        **kw,
    )


def test_pages_require_permissions(client: Client, owner):
    run = make_run()
    s = Schedule.objects.create(
        name="s", task_path="tests.scheduling.tasks.record", cron="* * * * *"
    )
    client.force_login(owner)
    for url in (
        "/system/tasks/",
        f"/system/tasks/runs/{run.pk}/",
        "/system/tasks/schedules/",
        f"/system/tasks/schedules/{s.pk}/edit/",
    ):
        assert client.get(url).status_code == 403, url
    for url in (
        f"/system/tasks/runs/{run.pk}/retry/",
        f"/system/tasks/schedules/{s.pk}/toggle/",
        f"/system/tasks/schedules/{s.pk}/run/",
    ):
        assert client.post(url).status_code == 403, url
    s.refresh_from_db()
    assert s.enabled and tasks.CALLS == []


def test_task_runs_list_and_filters(client: Client, task_viewer):
    failed = make_run()
    ok = make_run(status="SUCCESSFUL", task_path="credo.api.tasks.purge_idempotency_keys")
    client.force_login(task_viewer)
    text = client.get("/system/tasks/").content.decode()
    assert failed.task_path in text and ok.task_path in text
    assert "重试" not in text  # viewer cannot retry
    text = client.get("/system/tasks/", {"status": "FAILED"}).content.decode()
    assert "purge_idempotency_keys" not in text
    text = client.get("/system/tasks/", {"task": "purge"}).content.decode()
    assert "tests.scheduling.tasks.record" not in text


def test_task_runs_paginated(client: Client, task_viewer):
    for _ in range(55):
        make_run(status="SUCCESSFUL")
    client.force_login(task_viewer)
    resp = client.get("/system/tasks/")
    assert len(resp.context["page"].object_list) == 50
    assert len(client.get("/system/tasks/", {"page": 2}).context["page"].object_list) == 5


def test_detail_shows_traceback(client: Client, task_viewer):
    run = make_run()
    client.force_login(task_viewer)
    text = client.get(f"/system/tasks/runs/{run.pk}/").content.decode()
    assert "RuntimeError: 数据库超时" in text


def test_retry_failed_run_reenqueues_with_same_args(client: Client, task_admin):
    run = make_run(kwargs={"n": 7})
    client.force_login(task_admin)
    resp = client.post(f"/system/tasks/runs/{run.pk}/retry/")
    assert resp.status_code == 302
    assert tasks.CALLS == [{"n": 7}]
    entry = AuditEntry.objects.get(action="task.retry")
    assert entry.object_id == str(run.pk)
    assert entry.actor_id == task_admin.pk


def test_retry_to_unknown_queue_shows_error(client: Client, task_admin):
    run = make_run(queue_name="nope")
    client.force_login(task_admin)
    resp = client.post(f"/system/tasks/runs/{run.pk}/retry/", follow=True)
    assert resp.status_code == 200
    assert "任务无法加入队列" in resp.content.decode()
    assert tasks.CALLS == []


def test_retry_refuses_successful_run(client: Client, task_admin):
    run = make_run(status="SUCCESSFUL")
    client.force_login(task_admin)
    client.post(f"/system/tasks/runs/{run.pk}/retry/")
    assert tasks.CALLS == []
    assert not AuditEntry.objects.filter(action="task.retry").exists()


def test_schedule_list_toggle_edit_run(client: Client, task_admin):
    s = Schedule.objects.create(
        name="夜间批处理",
        task_path="tests.scheduling.tasks.record",
        cron="10 3 * * *",
        kwargs={"k": 1},
    )
    client.force_login(task_admin)
    text = client.get("/system/tasks/schedules/").content.decode()
    assert "夜间批处理" in text and "10 3 * * *" in text

    client.post(f"/system/tasks/schedules/{s.pk}/toggle/")
    s.refresh_from_db()
    assert s.enabled is False
    client.post(f"/system/tasks/schedules/{s.pk}/toggle/")
    s.refresh_from_db()
    assert s.enabled is True

    bad = client.post(f"/system/tasks/schedules/{s.pk}/edit/", {"cron": "99 * * *"})
    assert bad.status_code == 200
    assert "Cron 表达式" in bad.content.decode()
    s.refresh_from_db()
    assert s.cron == "10 3 * * *"
    good = client.post(f"/system/tasks/schedules/{s.pk}/edit/", {"cron": "0 4 * * *"})
    assert good.status_code == 302
    s.refresh_from_db()
    assert s.cron == "0 4 * * *"

    client.post(f"/system/tasks/schedules/{s.pk}/run/")
    assert tasks.CALLS == [{"k": 1}]
    assert ScheduleFiring.objects.filter(schedule=s, manual=True).count() == 1
    actions = list(
        AuditEntry.objects.filter(action__startswith="schedule.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["schedule.update"] * 3 + ["schedule.run_now"]


def test_nav_shows_task_entries_with_permission(client: Client, task_admin):
    from credo.core.ui.nav import navigation_for

    client.force_login(task_admin)
    request = client.get("/system/tasks/").wsgi_request
    urls = [i["url"] for s in navigation_for(request) for i in s["items"]]
    assert "/system/tasks/" in urls and "/system/tasks/schedules/" in urls
