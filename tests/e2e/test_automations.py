"""Browser: an administrator builds an automation (customer address changed → todo for the
owner), tries it on existing records (nothing written), adds a test case, publishes, changes a
customer and sees the automation fire in the run log."""

from __future__ import annotations

import os

import pytest

from credo.automations.models import AutomationRun
from credo.core.events.stream import events_pump
from credo.core.todo.models import Todo
from credo.customers.models import Customer
from credo.customers.services.records import customer_update
from tests.factories import OrgUnitFactory, UserFactory, role_with_perms

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("CREDO_SHOTS", "")  # screenshots only when set


def _shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def admin():
    role = role_with_perms(
        "e2e_auto_admin",
        "all",
        "automations.view_automation",
        "automations.manage_automation",
        "customers.view_customer",
        "customers.change_customer",
    )
    unit = OrgUnitFactory(code="e2e-auto", name="总部")
    return UserFactory(username="e2e_auto", display_name="系统管理员", org_unit=unit, roles=[role])


@pytest.fixture
def customers(admin):
    manager = UserFactory(username="e2e_auto_am", display_name="赵经理", org_unit=admin.org_unit)
    unit = admin.org_unit
    return [
        Customer.objects.create(
            kind="enterprise", name="晋阳机械", owner=manager, team=unit, branch=unit
        ),
        Customer.objects.create(
            kind="individual", name="散户王", owner=manager, team=unit, branch=unit
        ),
    ]


def test_build_try_publish_and_see_it_fire(page, login, admin, customers):
    page.set_default_timeout(30_000)
    page.on("dialog", lambda dialog: dialog.accept())
    events_pump()
    login(admin)
    page.goto(f"{page.base_url}/automations/")
    assert "还没有自动化" in page.inner_text("main")
    page.click("#automation-new")
    page.fill("input[name=name]", "企业客户地址变更提醒")
    page.click("#create-submit")
    page.wait_for_selector("#automation-form")

    # the editor shows only the fields of the chosen trigger and action type
    page.select_option("select[name=trigger_type]", "event")
    assert page.is_visible("select[name=event]") and not page.is_visible("input[name=cron]")
    page.select_option("select[name=event]", "customer.update")
    page.fill("input[name=changed_fields]", "address")
    page.select_option("select[name=condition_kind]", "expression")
    page.fill("textarea[name=expression]", "record.kind == 'enterprise'")
    page.select_option("select[name=a1_type]", "todo")
    assert page.is_visible("input[name=a1_title]") and not page.is_visible("select[name=a1_flag]")
    page.fill("input[name=a1_title]", "核实 {{ record.name }} 的新地址")
    page.fill("input[name=a1_due_days]", "3")
    _shot(page, "automation-editor")
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll('#automation-form select, #automation-form input:not([type=hidden]), #automation-form textarea')]
            .filter(el => !(el.labels && el.labels.length)).map(el => el.name)"""
    )
    assert unlabeled == []
    page.click("#save-draft")
    page.wait_for_selector("text=草稿已保存")
    assert "customer.update" in page.inner_text(
        "#trigger-text"
    ) or "客户资料变更" in page.inner_text("#trigger-text")

    # try it on existing records: the enterprise would fire, the individual not; nothing written
    page.click("#try-dry")
    page.wait_for_selector("#try-table")
    rows = page.locator("#try-table tbody tr")
    fired = page.locator("#try-table tbody tr[data-fires='1']")
    _shot(page, "automation-try")
    assert rows.count() == 2 and fired.count() == 1
    assert "晋阳机械" in fired.inner_text() and "将为 赵经理 创建待办" in fired.inner_text()
    assert Todo.objects.count() == 0 and AutomationRun.objects.count() == 0
    page.go_back()

    # a test case, then publish
    page.goto(page.url.rsplit("/v1/", 1)[0] + "/")
    page.fill("#case-form input[name=name]", "企业客户触发")
    page.fill("#case-form textarea[name=input]", '{"record": {"kind": "enterprise"}}')
    page.select_option("#case-form select[name=expected_fire]", "1")
    page.click("#case-add")
    page.wait_for_selector("#case-table")
    page.click("#draft-open")
    page.click("#publish")
    page.wait_for_selector("text=自动化已生效")
    assert page.get_attribute("#version-1", "data-status") == "published"

    # a customer's address changes: the automation fires
    customer_update(customer=customers[0], actor=admin, data={"address": "太原市万柏林区"})
    events_pump()
    page.reload()
    page.wait_for_selector("#run-table")
    row = page.locator("#run-table tbody tr").first
    assert row.get_attribute("data-status") == "done"
    _shot(page, "automation-runs")
    assert "已为 赵经理 创建待办" in row.inner_text()
    assert Todo.objects.get().title == "核实 晋阳机械 的新地址"
    row.locator("a").first.click()
    page.wait_for_selector("#run-outcomes")
    assert "customer.update" in page.inner_text("#run-event")
    assert page.console_errors == []
