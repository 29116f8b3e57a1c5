"""Issue 15 #9/#10: the 工作台 shows the user's todos, approvals and scoped figures (no
placeholder), and todo sources are shown as Chinese labels, never as app keys."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from credo.core.todo.services import todo_create
from credo.core.todo.sources import register_todo_source, source_label
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

pytestmark = pytest.mark.django_db

SOURCES = ("monitoring", "leads", "approvals", "collections", "origination", "scorecard")


def _html(user) -> str:
    c = Client()
    c.force_login(user)
    response = c.get(reverse("core:home"))
    assert response.status_code == 200
    return response.content.decode()


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_every_todo_source_has_a_chinese_label():
    labels = {key: source_label(key) for key in SOURCES}
    assert labels["monitoring"] == "贷后监控" and labels["leads"] == "线索跟进"
    for key, label in labels.items():
        assert label and label != key and re.search(r"[\u4e00-\u9fff]", label), key
    assert source_label("") == ""
    assert source_label("no-such-app") == "其他"
    # an installed app without an entry: the app's own (translated) name
    from django.apps import apps

    assert source_label("contracts") == str(apps.get_app_config("contracts").verbose_name)
    register_todo_source("contracts", "合同签署")
    try:
        assert source_label("contracts") == "合同签署"
    finally:
        from credo.core.todo import sources

        sources.todo_sources.unregister("contracts")


def test_todo_list_shows_source_labels_not_keys(owner):
    for key in SOURCES:
        todo_create(user=owner, title=f"事项 {key}", source=key)
    c = Client()
    c.force_login(owner)
    html = c.get(reverse("todo:list")).content.decode()
    cells = re.findall(r'<td class="d-none d-md-table-cell text-secondary">([^<]*)</td>', html)
    assert sorted(cells) == sorted(source_label(k) for k in SOURCES)
    for key in SOURCES:
        assert f">{key}<" not in html


def test_home_has_no_placeholder_and_lists_open_todos(owner):
    todo_create(user=owner, title="跟进线索：太原甲公司", source="leads", url="/leads/1/")
    todo_create(user=owner, title="追加担保：乙公司", source="monitoring")
    html = _html(owner)
    assert "业务数据将在客户与贷款模块上线后显示" not in html
    assert 'id="todo-open-count">2<' in html
    assert "跟进线索：太原甲公司" in html and 'href="/leads/1/"' in html
    assert "线索跟进" in html and "贷后监控" in html
    assert ">leads<" not in html and ">monitoring<" not in html


def test_home_empty_states_in_chinese(owner):
    html = _html(owner)
    assert "业务数据将在客户与贷款模块上线后显示" not in html
    assert "暂无待办事项" in html
    # the test account manager holds no view permission: a Chinese empty state, no figures
    assert "没有可显示的业务数据" in html
    assert 'data-figure="' not in html


def test_home_figures_from_the_users_scope(owner, colleague, portfolio):  # noqa: F811
    html = _html(owner)
    text = _text(html)
    assert "我的业务" in html
    assert 'data-figure="customers" href="/customers/"' in html or (
        'href="/customers/" data-figure="customers"' in html
    )
    assert re.search(r'href="/lending/loans/\?overdue=1" data-figure="overdue"', html)
    assert "1,000,000.00" in text  # 100k + 200k + 300k + 400k outstanding
    assert "在贷 4 笔" in text
    assert "余额 900,000.00 元" in text  # DPD 15, 45, 120
    overdue = re.search(r'data-figure="overdue">.*?figure-value">(\d+)<', html, re.S)
    assert overdue and overdue.group(1) == "3"
    customers = re.search(r'data-figure="customers">.*?figure-value">(\d+)<', html, re.S)
    assert customers and customers.group(1) == "1"
    # a colleague with the same role (own scope) sees none of the owner's business
    other = _html(colleague)
    assert re.search(r'data-figure="overdue">.*?figure-value">0<', other, re.S)
    assert "1,000,000.00" not in other and "在贷 0 笔" in _text(other)


def test_home_lists_approvals_waiting_for_the_user(start, approvers, owner):  # noqa: F811
    instance = start(amount=20_000_000)
    lead = approvers["lead"]
    task = instance.tasks.get(assignee=lead)
    html = _html(lead)
    assert "待我审批" in html
    assert 'id="home-approvals-count">1<' in html
    assert f'href="/approvals/tasks/{task.pk}/"' in html and "测试申请" in html
    assert 'href="/approvals/inbox/"' in html
    # the approval todo shows its source label
    assert "审批" in html and ">approvals<" not in html
    # another approver of the flow has nothing waiting
    other = _html(approvers["risk"])
    assert 'id="home-approvals-count">0<' in other and "没有等待您审批的事项" in other


def test_home_approval_counts_cover_every_open_task_not_only_the_listed(start, approvers):  # noqa: F811
    """The card lists the first five tasks; its counts (one windowed query) are over all."""
    import datetime as dt

    from django.utils import timezone

    from credo.approvals.models import ApprovalTask
    from credo.reports.workbench import HOME_TASKS, approvals_panel
    from tests.factories import UserFactory

    lead = approvers["lead"]
    for _ in range(HOME_TASKS + 2):
        start(subj=UserFactory())
    tasks = list(ApprovalTask.objects.filter(assignee=lead, status="open").order_by("id"))
    assert len(tasks) == HOME_TASKS + 2
    now = timezone.now()
    due = [now - dt.timedelta(days=2), now - dt.timedelta(hours=1), now + dt.timedelta(hours=3)]
    for task, when in zip(tasks, due, strict=False):
        ApprovalTask.objects.filter(pk=task.pk).update(due_at=when)
    for task in tasks[3:]:
        ApprovalTask.objects.filter(pk=task.pk).update(due_at=now + dt.timedelta(days=5))
    panel = approvals_panel(lead)
    assert panel["counts"] == {"open": HOME_TASKS + 2, "overdue": 2, "soon": 1}
    assert len(panel["tasks"]) == HOME_TASKS
    assert panel["tasks"][0].pk == tasks[0].pk  # soonest deadline first
    assert panel["tasks"][0].sla_tone == "danger" and panel["tasks"][2].sla_tone == "warning"
    assert panel["tasks"][0].instance.title == "测试申请"
    html = _html(lead)
    assert f'id="home-approvals-count">{HOME_TASKS + 2}<' in html
    assert html.count('class="list-group-item list-group-item-action') >= HOME_TASKS
    # another approver: nothing open, zero counts
    assert approvals_panel(approvers["risk"])["counts"] == {"open": 0, "overdue": 0, "soon": 0}


def test_customer_360_loan_rows_read_only_what_they_show(owner, portfolio, settings):  # noqa: F811
    """The 360 page's 贷款 rows: number, amount, status label, date and link — the kind label
    translated (it was a fixed Chinese string)."""
    from django.utils import translation

    from credo.lending.figures import customer_loans

    customer = portfolio[0].customer
    with translation.override("zh-hans"):
        rows = customer_loans(customer, owner)
    assert len(rows) == 4 and {r["kind"] for r in rows} == {"贷款"}
    top = rows[0]
    assert top["title"] == portfolio[-1].number and top["url"].endswith(f"/{portfolio[-1].pk}/")
    assert top["amount"] == "¥400,000.00" and top["status"] == portfolio[-1].get_status_display()
    with translation.override("en"):
        assert {r["kind"] for r in customer_loans(customer, owner)} == {"Loans"}
