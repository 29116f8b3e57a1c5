"""Issue 21 #1: the 工作台 has a section per role the user holds, each figure counted from the
user's data scope and linking to the list filtered the same way (the number on the card is the
number of rows the link shows). Another account manager's records are never counted."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credo.accounts.models import DataScope, Role
from credo.core.money import Money
from credo.core.todo.services import todo_create
from credo.leads.models import Lead
from credo.lending.models import Loan
from credo.origination.models import Application
from tests.approvals.conftest import (  # noqa: F401 (fixtures)
    approvers,
    context,
    start,
    subject,
)
from tests.factories import UserFactory
from tests.reports.conftest import (  # noqa: F401 (fixtures)
    borrower,
    finance,
    make_loan,
    portfolio,
    product_version,
    viewers,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 1)  # the shared book (12 months from 2026-01-15) matures 2027-01-15


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    from credo.core import clock

    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


PERMS = {
    "account_manager": [
        ("leads", "view_lead"),
        ("origination", "view_application"),
        ("lending", "view_loan"),
    ],
    "team_lead": [("leads", "view_lead"), ("origination", "view_application")],
    "risk_manager": [("monitoring", "view_alert"), ("lending", "view_exposure")],
    "finance": [("lending", "view_loan"), ("lending", "post_repayment"), ("lending", "view_books")],
    "collector_junior": [("collections", "view_collectioncase")],
    "management": [("lending", "view_loan"), ("customers", "view_customer")],
}
SCOPES = {
    "account_manager": DataScope.OWN,
    "team_lead": DataScope.TEAM,
    "collector_junior": DataScope.OWN,
}


def role(code: str) -> Role:
    r, _created = Role.objects.get_or_create(
        code=code,
        defaults={"name": code, "data_scope": SCOPES.get(code, DataScope.ALL), "is_system": True},
    )
    for app, codename in PERMS.get(code, []):
        r.permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return r


def html_of(user) -> str:
    c = Client()
    c.force_login(user)
    response = c.get(reverse("core:home"))
    assert response.status_code == 200
    return response.content.decode()


def sections(html: str) -> list[str]:
    return re.findall(r'data-section="([a-z_]+)"', html)


def card(html: str, key: str) -> tuple[str, str]:
    """(value, href) of the figure card ``key``."""
    m = re.search(rf'href="([^"]*)" data-card="{key}">.*?wb-value[^>]*>(.*?)</div>', html, re.S)
    assert m, key
    value = re.sub(r"<[^>]+>", "", m.group(2)).strip()
    return value, m.group(1).replace("&amp;", "&")


def lead(owner, name, *, stage="new", follow_up=None, team=None):
    return Lead.objects.create(
        name=name,
        source=Lead.Source.REFERRAL,
        owner=owner,
        team=team or owner.team,
        branch=owner.branch,
        stage=stage,
        next_follow_up=follow_up,
    )


def application(cust, pv, owner, status, *, n, days_untouched=0):
    app = Application.objects.create(
        number=f"SQ-T-{n:04d}",
        customer=cust,
        product_version=pv,
        amount=Money("100000"),
        months=12,
        annual_rate=Decimal("12"),
        method="equal_installment",
        purpose="采购",
        status=status,
        owner=owner,
        team=owner.team,
        branch=owner.branch,
        created_by=owner,
    )
    if days_untouched:
        Application.objects.filter(pk=app.pk).update(
            updated_at=timezone.now() - dt.timedelta(days=days_untouched)
        )
    return app


# --- 客户经理 -------------------------------------------------------------------------------------
def test_account_manager_section_from_own_scope(
    owner,
    colleague,
    portfolio,  # noqa: F811
    product_version,  # noqa: F811
    borrower,  # noqa: F811
):
    am = role("account_manager")
    owner.roles.add(am)
    colleague.roles.add(am)
    # leads: one due today, one overdue, one without a date; the colleague's overdue one
    lead(owner, "甲公司", follow_up=TODAY)
    lead(owner, "乙公司", stage="contacted", follow_up=TODAY - dt.timedelta(days=3))
    lead(owner, "丙公司", stage="qualified")
    lead(colleague, "同事的线索", follow_up=TODAY - dt.timedelta(days=1))
    lead(colleague, "同事今天的线索", follow_up=TODAY)
    # todos
    todo_create(user=owner, title="待办事项甲", due_date=TODAY)
    todo_create(user=owner, title="待办事项乙", due_date=TODAY - dt.timedelta(days=2))
    todo_create(user=colleague, title="同事的逾期", due_date=TODAY - dt.timedelta(days=2))
    # applications: one returned for correction, one in approval; the colleague's returned one
    application(borrower, product_version, owner, "returned", n=1)
    application(borrower, product_version, owner, "in_approval", n=2)
    application(borrower, product_version, colleague, "returned", n=3)

    html = html_of(owner)
    assert "account_manager" in sections(html)
    assert "team_lead" not in sections(html) and "risk" not in sections(html)
    c = Client()
    c.force_login(owner)

    value, href = card(html, "todos-today")
    assert (value, href) == ("1", "/todo/?due=today")
    assert card(html, "todos-overdue") == ("1", "/todo/?due=overdue")
    page = c.get(href).content.decode()
    assert "待办事项甲" in page and "待办事项乙" not in page

    assert card(html, "followups-today") == ("1", "/leads/?due=today")
    assert card(html, "followups-overdue") == ("1", "/leads/?overdue=1")
    assert card(html, "leads-open")[0] == "3"
    listed = c.get("/leads/?due=today").content.decode()
    assert "甲公司" in listed and "同事今天的线索" not in listed and "乙公司" not in listed
    listed = c.get("/leads/?overdue=1").content.decode()
    assert "乙公司" in listed and "同事的线索" not in listed

    assert card(html, "applications-correction") == (
        "1",
        "/origination/applications/?status=returned",
    )
    assert card(html, "applications-approval")[0] == "1"
    assert "SQ-T-0001" in c.get("/origination/applications/?status=returned").content.decode()
    assert "SQ-T-0003" not in c.get("/origination/applications/?status=returned").content.decode()

    # the shared book: 4 loans of one borrower, 3 overdue, all maturing 2027-01-15
    value, href = card(html, "customers-overdue")
    assert (value, href) == ("1", "/lending/loans/?overdue=1")
    assert "逾期贷款 3 笔" in html
    value, href = card(html, "renewals")
    assert (value, href) == ("4", "/lending/loans/?maturing=60")
    assert c.get(href).content.decode().count('href="/lending/loans/') >= 4
    assert Loan.objects.filter(maturity_date=dt.date(2027, 1, 15)).count() == 4

    # the colleague (same team, own scope) sees none of it
    other = html_of(colleague)
    assert card(other, "followups-today")[0] == "1"  # their own
    assert card(other, "followups-overdue")[0] == "1"
    assert card(other, "todos-overdue")[0] == "1"
    assert card(other, "applications-correction")[0] == "1"
    assert card(other, "customers-overdue")[0] == "0"
    assert card(other, "renewals")[0] == "0"


def test_renewals_filter_counts_only_loans_maturing_in_the_window(portfolio, owner):  # noqa: F811
    from credo.lending.selectors import loan_list

    owner.roles.add(role("account_manager"))
    assert loan_list(owner, {"maturing": "60"}).count() == 4
    assert loan_list(owner, {"maturing": "30"}).count() == 0  # 2027-01-15 is 45 days away
    assert loan_list(owner, {"maturing": "abc"}).count() == 4 + 0  # ignored: every loan


# --- 团队主管 -------------------------------------------------------------------------------------
def test_team_lead_section_counts_the_team_only(
    org,
    owner,
    colleague,
    outsider,
    product_version,  # noqa: F811
    borrower,  # noqa: F811
):
    lead_user = UserFactory(
        username="tl", display_name="组长", org_unit=org["team_a"], roles=[role("team_lead")]
    )
    late = TODAY - dt.timedelta(days=2)
    lead(owner, "甲", follow_up=late)
    lead(owner, "乙", follow_up=late, stage="contacted")
    lead(colleague, "丙", follow_up=late)
    lead(outsider, "外组", follow_up=late)  # team C: not the lead's team
    application(borrower, product_version, owner, "in_approval", n=1, days_untouched=10)
    application(borrower, product_version, colleague, "submitted", n=2, days_untouched=1)
    application(borrower, product_version, outsider, "in_approval", n=3, days_untouched=30)

    html = html_of(lead_user)
    assert sections(html) == ["team_lead", "approver"]  # team leads see approvals too
    assert card(html, "team-overdue") == ("3", "/leads/?overdue=1")
    assert card(html, "team-new")[0] == "2" and card(html, "team-contacted")[0] == "1"
    # overdue follow-ups per member, most first, each linking to the member's filtered list
    rows = re.findall(r'data-row="member-(\d+)">.*?wb-row-value[^>]*>(\d+)<', html, re.S)
    assert rows == [(str(owner.pk), "2"), (str(colleague.pk), "1")]
    assert f'href="/leads/?overdue=1&amp;owner={owner.pk}"' in html
    value, href = card(html, "applications-stuck")
    assert (value, href) == ("1", "/origination/applications/?stuck=7")
    c = Client()
    c.force_login(lead_user)
    listed = c.get(href).content.decode()
    assert "SQ-T-0001" in listed and "SQ-T-0002" not in listed and "SQ-T-0003" not in listed


# --- 审批 -----------------------------------------------------------------------------------------
def test_approver_section_shows_the_sla_countdown(start, approvers):  # noqa: F811
    instance = start(amount=20_000_000)
    lead_user = approvers["lead"]
    task = instance.tasks.get(assignee=lead_user)
    html = html_of(lead_user)
    assert "approver" in sections(html)
    assert 'id="panel-approvals"' in html and f'data-task="{task.pk}"' in html
    m = re.search(r'class="badge bg-(\w+)-lt text-nowrap approval-sla"[^>]*>([^<]+)<', html)
    assert m and m.group(2).startswith("剩余")
    # past the deadline: counted as overdue and shown as such
    type(task).objects.filter(pk=task.pk).update(due_at=timezone.now() - dt.timedelta(hours=5))
    html = html_of(lead_user)
    assert "1 项已超时" in html
    m = re.search(r'approval-sla" data-sla="danger">([^<]+)<', html)
    assert m and m.group(1) == "已超时 5 小时"


def test_sla_countdown_text():
    from credo.core.ui.workbench import sla_countdown

    now = timezone.now()
    assert sla_countdown(now + dt.timedelta(days=2, hours=1), now) == ("剩余 2 天", "green")
    assert sla_countdown(now + dt.timedelta(hours=3, minutes=5), now) == ("剩余 3 小时", "warning")
    assert sla_countdown(now + dt.timedelta(seconds=20), now) == ("剩余 1 分钟", "warning")
    assert sla_countdown(now - dt.timedelta(days=3), now) == ("已超时 3 天", "danger")
    assert sla_countdown(None, now) == ("", "")


# --- 风控 -----------------------------------------------------------------------------------------
def test_risk_section_alerts_by_severity_and_headroom(
    org,
    owner,
    portfolio,  # noqa: F811
):
    from credo.lending.exposure.models import NetAssets
    from credo.lending.exposure.selectors import clear_cached
    from credo.monitoring.models import Alert

    risk = UserFactory(
        username="rk", display_name="风控", org_unit=org["head"], roles=[role("risk_manager")]
    )
    loan = portfolio[3]
    now = timezone.now()

    def alert(sev, hours, status="open"):
        return Alert.objects.create(
            rule_code=f"dpd-{sev}-{hours}",
            rule_name="逾期预警",
            severity=sev,
            loan=loan,
            customer=loan.customer,
            status=status,
            business_date=TODAY,
            owner=owner,
            team=owner.team,
            branch=owner.branch,
            due_at=now + dt.timedelta(hours=hours),
        )

    alert("critical", -2)
    alert("high", 5)
    alert("high", 50)
    alert("low", 10, status="closed")
    NetAssets.objects.create(
        effective_date=dt.date(2026, 1, 1), amount=Money("10000000"), entered_by=risk
    )
    clear_cached()

    html = html_of(risk)
    assert sections(html) == ["approver", "risk"]
    assert card(html, "alerts-overdue") == ("1", "/monitoring/alerts/?overdue=1")
    assert card(html, "alerts-critical") == (
        "1",
        "/monitoring/alerts/?status=active&severity=critical",
    )
    assert card(html, "alerts-high")[0] == "2"
    assert card(html, "alerts-low")[0] == "0"  # the closed one is not open
    # the most urgent first, with its countdown
    urgent = re.findall(r'data-row="alert-(\d+)">.*?wb-badge">([^<]+)<', html, re.S)
    assert [u[1] for u in urgent] == ["已超时 2 小时", "剩余 4 小时", "剩余 2 天"]
    # concentration: net assets 10,000,000; the borrower holds 1,000,000 outstanding (10%)
    value, href = card(html, "headroom-single")
    assert href == "/lending/exposure/"
    assert "最大借款人占净资产" in html
    # an account manager's risk-free home has no risk section
    assert "risk" not in sections(html_of(owner))


def test_risk_section_without_net_assets_says_so(org):
    from credo.lending.exposure.selectors import clear_cached

    clear_cached()
    risk = UserFactory(
        username="rk2", display_name="风控2", org_unit=org["head"], roles=[role("risk_manager")]
    )
    html = html_of(risk)
    assert card(html, "net-assets-missing") == ("未录入", "/lending/exposure/net-assets/")
    assert "没有未处理的预警。" in html  # the Chinese empty state of the alert list


# --- 财务 -----------------------------------------------------------------------------------------
def test_finance_section(org, make_loan, finance):  # noqa: F811
    from credo.lending.books.models import AccountingPeriod
    from credo.lending.models import StatementImport, StatementLine

    fin = UserFactory(
        username="fin2", display_name="财务", org_unit=org["head"], roles=[role("finance")]
    )
    make_loan()
    make_loan()
    imp = StatementImport.objects.create(file_name="a.csv", uploaded_by=fin)
    done = StatementImport.objects.create(file_name="b.csv", uploaded_by=fin)
    for i, status in enumerate(["unmatched", "unmatched", "matched"]):
        StatementLine.objects.create(
            statement=imp, row_number=i, txn_date=TODAY, amount=Money("100.5"), status=status
        )
    StatementLine.objects.create(
        statement=done, row_number=1, txn_date=TODAY, amount=Money("9"), status="matched"
    )
    html = html_of(fin)
    assert sections(html) == ["approver", "finance"]
    assert card(html, "disbursements") == ("2", "/lending/loans/?status=pending")
    assert card(html, "statement-unmatched") == ("2", "/lending/statements/?unmatched=1")
    assert "合计 201.00 元" in html
    c = Client()
    c.force_login(fin)
    listed = c.get("/lending/statements/?unmatched=1").content.decode()
    assert "a.csv" in listed and "b.csv" not in listed
    assert card(html, "period-close") == ("未结账", "/lending/books/periods/")
    AccountingPeriod.objects.create(
        month=dt.date(2026, 11, 1), status="closed", closed_by=fin, closed_at=timezone.now()
    )
    assert card(html_of(fin), "period-close")[0] == "已结账"


# --- 催收 -----------------------------------------------------------------------------------------
def test_collector_queue_by_priority_and_promises_due(
    org,
    owner,
    portfolio,  # noqa: F811
):
    from credo.collections.models import CollectionCase, PromiseToPay

    col = UserFactory(
        username="col",
        display_name="催收甲",
        org_unit=org["team_a"],
        roles=[role("collector_junior")],
    )
    other = UserFactory(
        username="col2",
        display_name="催收乙",
        org_unit=org["team_a"],
        roles=[role("collector_junior")],
    )

    def case(loan, who, priority, status="open"):
        return CollectionCase.objects.create(
            loan=loan,
            customer=loan.customer,
            tier="call_junior",
            assignee=who,
            team=who.org_unit,
            branch=owner.branch,
            dpd=loan.dpd,
            amount=Money("1000"),
            priority=priority,
            status=status,
            opened_on=TODAY,
        )

    low = case(portfolio[1], col, 10)
    high = case(portfolio[3], col, 900, status="promised")
    case(portfolio[2], col, 500, status="closed")
    theirs = case(portfolio[2], other, 999)
    PromiseToPay.objects.create(case=high, promised_date=TODAY, amount=Money("500"), actor=col)
    PromiseToPay.objects.create(
        case=low, promised_date=TODAY + dt.timedelta(days=3), amount=Money("500"), actor=col
    )
    PromiseToPay.objects.create(case=theirs, promised_date=TODAY, amount=Money("500"), actor=other)

    html = html_of(col)
    assert sections(html) == ["collector"]
    assert card(html, "queue") == ("2", "/collections/")
    assert card(html, "promises-due") == ("1", "/collections/?promise=due")
    assert "今天 1 件，合计 500.00 元" in html
    order = re.findall(r'data-row="case-(\d+)"', html)
    assert order == [str(high.pk), str(low.pk)]  # priority first; never the colleague's case
    c = Client()
    c.force_login(col)
    listed = c.get("/collections/?promise=due").content.decode()
    assert f"/collections/cases/{high.pk}/" in listed
    assert f"/collections/cases/{low.pk}/" not in listed


# --- 管理层 and several roles -------------------------------------------------------------------
def test_management_section_reuses_the_dashboard_kpis(org, portfolio):  # noqa: F811
    gm = UserFactory(
        username="gm2", display_name="总经理", org_unit=org["head"], roles=[role("management")]
    )
    html = html_of(gm)
    assert sections(html) == ["approver", "management"]
    assert 'id="panel-management-kpis"' in html
    kpis = re.findall(r'data-kpi="([a-z_]+)"', html)
    assert kpis and "outstanding" in kpis
    assert "1,000,000.00" in html  # the book's balance, as on the dashboard


def test_several_roles_see_each_section_in_order(org, portfolio):  # noqa: F811
    user = UserFactory(
        username="multi",
        display_name="多角色",
        org_unit=org["head"],
        roles=[role("management"), role("finance"), role("risk_manager")],
    )
    assert sections(html_of(user)) == ["approver", "risk", "finance", "management"]


def test_no_role_no_section(owner):
    html = html_of(owner)  # the test account manager role is not a system role
    assert sections(html) == []
    assert "没有可显示的业务数据" in html


def test_a_broken_panel_does_not_take_the_section_down(org, monkeypatch):
    from credo.core.ui import workbench

    def boom(user):
        raise RuntimeError("broken")

    panel = workbench.WorkbenchPanel("boom", "坏", workbench.CARDS, boom, section="finance")
    workbench.register_workbench_panel(panel)
    try:
        fin = UserFactory(
            username="fin3", display_name="财务", org_unit=org["head"], roles=[role("finance")]
        )
        html = html_of(fin)
        assert "finance" in sections(html) and 'id="panel-fin-ops"' in html
        assert 'id="panel-boom"' not in html
    finally:
        workbench.unregister_workbench_panel("boom")


def test_account_manager_loan_counts_follow_the_data_version(portfolio, owner):  # noqa: F811
    """The 我的贷款 counts read every loan in scope: cached (core.figcache) until the data version
    moves — a finished close of business, a journal entry, a new loan."""
    from credo.lending.models import EodRun
    from credo.lending.workbench_panels import account_manager_panel

    owner.roles.add(role("account_manager"))

    def overdue_customers() -> int:
        return int(account_manager_panel(owner)["items"][0]["value"])

    assert overdue_customers() == 1
    Loan.objects.update(dpd=0, status="active")  # an edit that adds no row: not seen
    assert overdue_customers() == 1
    EodRun.objects.create(business_date=dt.date(2026, 12, 1), status="done")
    assert overdue_customers() == 0
