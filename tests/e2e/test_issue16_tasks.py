"""Issue 16 (9): the 任务运行 page says which run is stuck (疑似卡住) and which was reaped and
re-queued (已回收重试), with when and which worker."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from credo.core.scheduling import reaper
from credo.core.scheduling.models import WorkerLease
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(org):
    role = RoleFactory(code="e2e-ops16", name="运维")
    role.permissions.add(
        Permission.objects.get(codename="view_tasks", content_type__app_label="scheduling")
    )
    return UserFactory(username="ops16", display_name="运维员", org_unit=org["head"], roles=[role])


def test_stuck_then_reaped_run_on_the_task_page(page, login, operator, settings):
    settings.CREDO_TASK_LEASE_SECONDS = 600
    long_ago = timezone.now() - timedelta(minutes=15)
    run = DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status="RUNNING",
        args_kwargs={"args": [7], "kwargs": {}},
        task_path="credo.lending.tasks.eod_chunk",
        queue_name="default",
        backend_name="default",
        run_after=get_date_max(),
        started_at=long_ago,
        worker_ids=["node1:3141:dead01"],
        exception_class_path="",
        traceback="",
    )
    WorkerLease.objects.create(
        worker_id="node1:3141:dead01", hostname="node1", pid=3141, heartbeat_at=long_ago
    )
    login(operator)
    page.goto(f"{page.base_url}/system/tasks/")
    alert = page.locator("[data-testid=stuck-alert]")
    assert "1 个任务疑似卡住" in alert.inner_text()
    assert "node1:3141:dead01" in alert.inner_text()
    row = page.locator("[data-testid=task-runs-table] tbody tr").first
    assert "疑似卡住" in row.inner_text() and "node1:3141:dead01" in row.inner_text()

    reaper.reap_stale_tasks(reaper="node2:2718:live01")
    page.reload()
    assert page.locator("[data-testid=stuck-alert]").count() == 0
    row = page.locator("[data-testid=task-runs-table] tbody tr").first
    assert "排队中" in row.inner_text()
    assert "已回收重试" in row.locator("[data-testid=reaped]").inner_text()
    assert "回收自工作进程 node1:3141:dead01" in row.inner_text()
    page.select_option("select[name=status]", "REAPED")
    page.click("button[type=submit] >> text=查询")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=task-runs-table] tbody tr").count() == 1
    page.click("text=详情")
    reaps = page.locator("[data-testid=reaps-table]").inner_text()
    assert "node1:3141:dead01" in reaps and "node2:2718:live01" in reaps
    assert "已重新排队" in reaps
    assert str(run.pk) in page.content()
    assert page.console_errors == []
