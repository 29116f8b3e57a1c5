"""Browser, issue 15 #9/#10: the 工作台 shows the user's open todos (source as a Chinese label),
the approvals waiting for them and figures of their data scope, each linking to its list."""

from __future__ import annotations

import pytest

from credo.core.todo.services import todo_create
from tests.approvals.conftest import (  # noqa: F401 (fixtures)
    approvers,
    context,
    start,
    subject,
)
from tests.reports.conftest import (  # noqa: F401 (fixtures)
    borrower,
    finance,
    make_loan,
    portfolio,
    product_version,
    viewers,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_shows_todos_and_figures_with_links(page, login, portfolio, owner):  # noqa: F811
    todo_create(user=owner, title="跟进线索：太原甲公司", source="leads")
    todo_create(user=owner, title="追加担保：乙公司", source="monitoring")
    login(owner)
    page.goto(f"{page.base_url}/")
    body = page.inner_text("body")
    assert "业务数据将在客户与贷款模块上线后显示" not in body
    todos = page.inner_text("#home-todos")
    assert "跟进线索：太原甲公司" in todos and "追加担保：乙公司" in todos
    sources = page.locator("#home-todos .todo-source").all_inner_texts()
    assert sorted(sources) == ["线索跟进", "贷后监控"]
    figures = page.locator("#home-figures")
    assert "1,000,000.00" in figures.locator("[data-figure=outstanding]").inner_text()
    assert "在贷 4 笔" in figures.locator("[data-figure=outstanding]").inner_text()
    overdue = figures.locator("[data-figure=overdue]")
    assert overdue.locator(".figure-value").inner_text().strip() == "3"
    assert "余额 900,000.00 元" in overdue.inner_text()
    overdue.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/lending/loans/?overdue=1")
    assert page.locator("table tbody tr").count() == 3
    # the todo list shows the same labels, never the app keys
    page.goto(f"{page.base_url}/todo/")
    table = page.inner_text("#todo-table")
    assert "线索跟进" in table and "贷后监控" in table
    assert "leads" not in table and "monitoring" not in table
    assert page.console_errors == []


def test_home_lists_the_approvals_waiting_for_the_user(page, login, start, approvers):  # noqa: F811
    instance = start(amount=20_000_000)
    lead = approvers["lead"]
    task = instance.tasks.get(assignee=lead)
    login(lead)
    page.goto(f"{page.base_url}/")
    panel = page.locator("#panel-approvals")
    assert panel.locator("#home-approvals-count").inner_text().strip() == "1"
    assert "测试申请" in panel.inner_text()
    assert "审批" in page.locator("#home-todos .todo-source").all_inner_texts()
    panel.locator(f"[data-task='{task.pk}']").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/approvals/tasks/{task.pk}/")
    # someone with nothing waiting sees a Chinese empty state, not a placeholder
    page.context.clear_cookies()
    login(approvers["risk"])
    page.goto(f"{page.base_url}/")
    assert "没有等待您审批的事项" in page.inner_text("#panel-approvals")
    assert "暂无待办事项" in page.inner_text("#todo-card")
    assert page.console_errors == []
