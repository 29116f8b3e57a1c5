"""Browser: the nightly monitoring batch raises a high alert → it is pushed at once: the risk
manager sees the unread message (in-app) and the todo due by the SLA, opens the alert from the
message and from the todo, and sees the SLA countdown."""

from __future__ import annotations

import pytest
from django.utils import timezone

from credo.core.todo.models import Todo
from credo.monitoring.batch import run_monitoring
from credo.monitoring.models import Alert
from credo.notify.models import Message
from tests.factories import RoleFactory, UserFactory, overdue_loan, perms

pytestmark = pytest.mark.django_db(transaction=True)


def test_risk_manager_sees_pushed_todo_and_message_and_opens_alert(page, login, org, owner):
    today = timezone.localdate()
    loan = overdue_loan(
        org,
        owner,
        today,
        customer_name="晋中推送测试有限公司",
        number="E2EPUSH1",
        product_code="e2e-push",
    )
    role = RoleFactory(code="risk_manager", name="风险经理", data_scope="branch")
    role.permissions.add(*perms("monitoring.view_alert", "monitoring.handle_alert"))
    rm = UserFactory(username="rm_push", display_name="赵风险", org_unit=org["b1"], roles=[role])

    run_monitoring(today)
    alert = Alert.objects.get(loan=loan, rule_code="dpd_30")
    assert alert.assignee == rm and alert.pushed_at is not None
    assert Message.objects.filter(user=rm, kind="inapp").count() == Alert.objects.count()

    login(rm)
    # the message: unread in the bell, opened from the inbox straight onto the alert
    page.wait_for_selector("#inbox-unread")
    page.click("#inbox-bell")
    page.wait_for_selector("text=新预警：逾期30天以上")
    assert "晋中推送测试有限公司" in page.inner_text("body")
    page.click("text=新预警：逾期30天以上")
    page.wait_for_selector("#alert-sla")
    assert page.url.endswith(f"/monitoring/alerts/{alert.pk}/")
    assert "剩余" in page.inner_text("#sla-countdown")
    assert "暂无升级" in page.inner_text("#escalation-history")
    # the todo: due by the SLA, links to the alert
    todo = Todo.objects.get(user=rm, dedupe_key=f"alert:{alert.pk}:handle")
    page.goto(f"{page.base_url}/todo/")
    row = page.locator(f"#todo-{todo.pk}")
    row.wait_for()
    assert "处理预警：逾期30天以上" in row.inner_text()
    assert todo.due_date.isoformat() in row.inner_text()
    row.locator("a", has_text="处理预警").click()
    page.wait_for_selector("#alert-summary")
    assert page.url.endswith(f"/monitoring/alerts/{alert.pk}/")
    assert page.console_errors == []
