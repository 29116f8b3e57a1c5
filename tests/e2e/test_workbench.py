"""Browser, issue 21 #1: each role's section of the 工作台 at 390×844 (phone) and 1440×900
(desktop): the section is there, its figures come from the user's data scope, a figure's link
opens the list filtered the same way, and on the phone nothing overflows the screen and no
amount breaks inside a number. Screenshots go to $CREDO_SHOTS when it is set."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from credo.core.money import Money
from credo.core.todo.services import todo_create
from tests.approvals.conftest import (  # noqa: F401 (fixtures)
    approvers,
    context,
    start,
    subject,
)
from tests.core.test_workbench_roles import TODAY, application, lead, role
from tests.e2e.axe import assert_accessible
from tests.factories import UserFactory
from tests.reports.conftest import (  # noqa: F401 (fixtures)
    borrower,
    finance,
    make_loan,
    portfolio,
    product_version,
    viewers,
)

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("CREDO_SHOTS", "")  # screenshots only when set
VIEWPORTS = {"phone": (390, 844), "desktop": (1440, 900)}


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    from credo.core import clock

    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


@pytest.fixture
def world(org, owner, colleague, portfolio, product_version, borrower, make_loan, start, approvers):  # noqa: F811
    """One small book with something for every role; the colleague's records are the control
    (never counted for the owner)."""
    from django.utils import timezone

    from credo.collections.models import CollectionCase, PromiseToPay
    from credo.lending.exposure.models import NetAssets
    from credo.lending.exposure.selectors import clear_cached
    from credo.monitoring.models import Alert

    am = role("account_manager")
    owner.roles.add(am)
    colleague.roles.add(am)
    late = TODAY - dt.timedelta(days=2)
    lead(owner, "甲公司", follow_up=TODAY)
    lead(owner, "乙公司", stage="contacted", follow_up=late)
    lead(colleague, "同事的线索", follow_up=TODAY)
    todo_create(user=owner, title="回访甲公司", due_date=TODAY)
    application(borrower, product_version, owner, "returned", n=1)
    application(borrower, product_version, colleague, "in_approval", n=2, days_untouched=10)
    make_loan()  # pending disbursement
    users = {
        "account_manager": owner,
        "approver": approvers["lead"],
        "team_lead": UserFactory(
            username="tl_e2e",
            display_name="组长",
            org_unit=org["team_a"],
            roles=[role("team_lead")],
        ),
        "risk": UserFactory(
            username="rk_e2e",
            display_name="风控",
            org_unit=org["head"],
            roles=[role("risk_manager")],
        ),
        "finance": UserFactory(
            username="fin_e2e", display_name="财务", org_unit=org["head"], roles=[role("finance")]
        ),
        "collector": UserFactory(
            username="col_e2e",
            display_name="催收员",
            org_unit=org["team_a"],
            roles=[role("collector_junior")],
        ),
        "management": UserFactory(
            username="gm_e2e",
            display_name="总经理",
            org_unit=org["head"],
            roles=[role("management")],
        ),
    }
    start(amount=20_000_000)  # a task waiting for approvers["lead"]
    now = timezone.now()
    for i, (sev, hours) in enumerate((("critical", -3), ("high", 6), ("medium", 72))):
        loan = portfolio[i + 1]
        Alert.objects.create(
            rule_code=f"r{i}",
            rule_name="逾期预警",
            severity=sev,
            loan=loan,
            customer=loan.customer,
            business_date=TODAY,
            owner=owner,
            team=owner.team,
            branch=owner.branch,
            due_at=now + dt.timedelta(hours=hours),
        )
    NetAssets.objects.create(
        effective_date=dt.date(2026, 1, 1), amount=Money("20000000"), entered_by=owner
    )
    clear_cached()
    col = users["collector"]
    for i, priority in enumerate((100, 900)):
        loan = portfolio[i + 2]
        case = CollectionCase.objects.create(
            loan=loan,
            customer=loan.customer,
            tier="call_junior",
            assignee=col,
            team=col.org_unit,
            branch=owner.branch,
            dpd=loan.dpd,
            amount=loan.outstanding_principal,
            priority=priority,
            opened_on=TODAY,
        )
        if priority == 900:
            PromiseToPay.objects.create(
                case=case,
                promised_date=TODAY,
                amount=Money("5000"),
                actor=col,
            )
    return users


# role → (a figure card, its value, the filtered list its link opens, text that list shows)
CASES = {
    "account_manager": ("followups-today", "1", "/leads/?due=today", "甲公司"),
    "team_lead": ("applications-stuck", "1", "/origination/applications/?stuck=7", "SQ-T-0002"),
    "approver": (None, None, "/approvals/tasks/", "测试申请"),
    "risk": (
        "alerts-critical",
        "1",
        "/monitoring/alerts/?status=active&severity=critical",
        "逾期预警",
    ),
    "finance": ("disbursements", "1", "/lending/loans/?status=pending", "待放款"),
    "collector": ("promises-due", "1", "/collections/?promise=due", "太原借款企业有限公司"),
    "management": (None, None, None, None),
}


@pytest.mark.parametrize("section", list(CASES))
def test_role_section_on_phone_and_desktop(page, login, world, section):
    user = world[section]
    key, value, href, listed = CASES[section]
    login(user)
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
    for name, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{page.base_url}/")
        block = page.locator(f"[data-section='{section}']")
        assert block.count() == 1, section
        assert block.locator(".wb-section-title").inner_text().strip()
        block.scroll_into_view_if_needed()
        assert_accessible(page, "workbench")
        if SHOTS:
            page.screenshot(
                path=os.path.join(SHOTS, f"workbench-{section}-{name}.png"), full_page=True
            )
        # nothing wider than the screen, no figure wrapped inside a number
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (section, name, overflow)
        broken = page.evaluate(
            """() => [...document.querySelectorAll('.wb-value, .kpi-value, .wb-row-value')]
                 .filter(e => getComputedStyle(e).whiteSpace !== 'nowrap'
                              || e.scrollWidth > e.clientWidth + 1)
                 .map(e => e.textContent.trim())"""
        )
        assert broken == [], (section, name, broken)
        if key:
            figure = block.locator(f"[data-card='{key}']")
            assert figure.locator(".wb-value").inner_text().strip() == value
            assert figure.get_attribute("href") == href
    # the link opens the list filtered as counted
    if section == "approver":
        assert page.locator("#panel-approvals .approval-sla").first.inner_text().startswith("剩余")
        page.locator("#panel-approvals [data-task]").first.click()
        page.wait_for_load_state("networkidle")
        assert href in page.url and listed in page.inner_text("body")
    elif section == "management":
        cards = page.locator("#panel-management-kpis [data-kpi]")
        assert cards.count() >= 4
        assert "1,000,000.00" in page.inner_text("#panel-management-kpis")
    else:
        page.locator(f"[data-section='{section}'] [data-card='{key}']").click()
        page.wait_for_load_state("networkidle")
        assert page.url.endswith(href), page.url
        assert listed in page.inner_text("body")
    assert page.console_errors == []


def test_account_manager_never_sees_a_colleagues_records(page, login, world):
    login(world["account_manager"])
    page.goto(f"{page.base_url}/leads/?due=today")
    body = page.inner_text("body")
    assert "甲公司" in body and "同事的线索" not in body
    page.goto(f"{page.base_url}/")
    assert page.locator("[data-card='applications-correction'] .wb-value").inner_text() == "1"
    assert page.locator("[data-section='team_lead']").count() == 0
