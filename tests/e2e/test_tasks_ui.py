"""An operator with the task permissions sees the task runs and schedules pages."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from credo.core.scheduling.models import Schedule
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(org):
    role = RoleFactory(code="e2e-ops", name="运维")
    for codename in ("view_tasks", "manage_schedules"):
        role.permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="scheduling")
        )
    return UserFactory(username="ops", display_name="运维员", org_unit=org["head"], roles=[role])


def test_task_runs_and_schedules_pages(page, login, operator):
    now = timezone.now()
    DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status="FAILED",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="credo.api.tasks.purge_idempotency_keys",
        queue_name="default",
        backend_name="default",
        run_after=now,
        exception_class_path="builtins.RuntimeError",
        traceback="Traceback (most recent call last):\nRuntimeError: e2e 失败示例",
    )
    Schedule.objects.create(
        name="e2e.nightly", task_path="credo.api.tasks.purge_idempotency_keys", cron="10 3 * * *"
    )
    login(operator)
    page.goto(f"{page.base_url}/system/tasks/")
    table = page.locator("[data-testid=task-runs-table]")
    assert "purge_idempotency_keys" in table.inner_text()
    assert "重试" in table.inner_text()
    page.click("text=详情")
    assert "e2e 失败示例" in page.locator("[data-testid=traceback]").inner_text()

    page.goto(f"{page.base_url}/system/tasks/schedules/")
    row = page.locator("tr[data-schedule='e2e.nightly']")
    assert "10 3 * * *" in row.inner_text()
    row.locator("text=编辑").click()
    page.fill("input[name=cron]", "99 * * * *")
    page.click("button[type=submit] >> text=保存")
    assert "Cron 表达式" in page.locator("[data-testid=cron-error]").inner_text()
    page.fill("input[name=cron]", "0 4 * * *")
    page.click("button[type=submit] >> text=保存")
    page.wait_for_load_state("networkidle")
    assert "0 4 * * *" in page.locator("tr[data-schedule='e2e.nightly']").inner_text()
    assert page.console_errors == []
