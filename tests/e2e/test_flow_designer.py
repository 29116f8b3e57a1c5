"""Browser, issue 23 item 3: design an approval flow visually (the applicant's manager, a
person picker, a conditional step moved up by keyboard, a deadline), see a field error, preview
the route for a sample, publish, then route an application through the designed steps.
Screenshots go to $CREDO_SHOTS when it is set."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Permission

from credo.approvals import services
from credo.approvals.defaults import ORIGINATION_FLOW
from credo.approvals.models import ApprovalInstance, FlowVersion
from tests.e2e.axe import AXE, BLOCKING, violations
from tests.e2e.test_approvals import _role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("CREDO_SHOTS", "")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"flow-designer-{name}.png"), full_page=True)


def _accessible(page):
    """Every visible designer input has a label; no serious/critical axe violation (axe runs
    when ``make assets`` has installed it)."""
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll(
                '#designer input:not([type=hidden]), #designer select, #designer textarea')]
            .filter(el => el.offsetParent !== null)
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.getAttribute('aria-labelledby'))
            .map(el => el.id || el.name)"""
    )
    assert unlabeled == []
    if AXE.exists():
        bad = [v for v in violations(page, include="#designer") if v["impact"] in BLOCKING]
        assert bad == [], bad


def _approve(page, login, user, step_name):
    login(user)
    page.goto(f"{page.base_url}/approvals/inbox/")
    row = page.locator(".inbox-row")
    assert row.count() == 1 and step_name in row.inner_text()
    row.get_by_role("link", name="处理").click()
    page.wait_for_url("**/approvals/tasks/*/")
    page.fill("#approve-comment", "同意")
    page.click("#approve-submit")
    page.locator(".alert-success, #approval-status").first.wait_for(state="visible")
    assert page.console_errors == []
    page.context.clear_cookies()


def test_design_a_flow_visually_and_route_an_application(page, login, org):
    applicant = UserFactory(
        username="am_fd",
        display_name="张经理",
        org_unit=org["team_a"],
        roles=[_role("account_manager", "客户经理")],
    )
    lead_role = _role("team_lead", "团队主管")
    own_lead = UserFactory(
        username="lead_fd", display_name="孙组长", org_unit=org["team_a"], roles=[lead_role]
    )
    UserFactory(
        username="lead_other", display_name="钱主管", org_unit=org["team_c"], roles=[lead_role]
    )
    finance = UserFactory(
        username="fin_fd",
        display_name="吴财务",
        org_unit=org["head"],
        roles=[_role("finance", "财务")],
    )
    risk = UserFactory(
        username="risk_fd",
        display_name="孙风控",
        org_unit=org["head"],
        roles=[_role("risk_manager", "风控经理")],
    )
    _role("credit_committee", "审批委员会")
    admin = UserFactory(username="flow_admin", display_name="流程管理员")
    admin.user_permissions.add(
        Permission.objects.get(content_type__app_label="approvals", codename="manage_flows")
    )
    page.on("dialog", lambda dialog: dialog.accept())

    # a new draft of the shipped flow opens in the designer
    login(admin)
    page.goto(f"{page.base_url}/approvals/flows/")
    page.get_by_role("button", name="新建“贷款申请审批”的草稿").click()
    page.wait_for_url("**/approvals/versions/*/")
    assert page.inner_text("#version-status") == "草稿"
    r = page.locator("input[name$='-code'][value='standard']").get_attribute("name")[:-5]
    n = r[1:]  # buttons and cards are numbered without the "r"

    # step 1: the applicant's manager (团队主管 of the applicant's team) instead of the role
    page.select_option(f"#f-{r}-s0-a0-type", "manager")
    assert page.locator(f"#f-{r}-s0-a0-user").locator("xpath=..").is_hidden()
    page.select_option(f"#f-{r}-s0-a0-role", "team_lead")
    page.uncheck(f"#f-{r}-s0-branch_scoped")

    # add a third step by keyboard, fill it, and move it up to second place
    page.focus(f"#add-step-{n}")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#f-{r}-s2-name")
    assert page.evaluate("document.activeElement.id") == f"f-{r}-s2-name"
    page.keyboard.type("财务复核")
    page.select_option(f"#f-{r}-s2-a0-type", "user")
    page.focus(f"#f-{r}-s2-a0-user-ts-control")
    page.keyboard.type("吴财务")
    # Tom Select filters after a short pause: wait until only 吴财务 is offered
    page.wait_until(
        "(id) => document.querySelectorAll('#' + id + ' .option').length === 1",
        f"f-{r}-s2-a0-user-ts-dropdown",
    )
    page.keyboard.press("Enter")
    assert page.input_value(f"#f-{r}-s2-a0-user") == "fin_fd"
    page.fill(f"#f-{r}-s2-condition", "amount_yuan >= 300000")
    page.fill(f"#f-{r}-s2-deadline", "0")
    page.select_option(f"#f-{r}-s2-deadline_unit", "days")
    page.focus(f"#up-{n}-2")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#step-title-{n}-1:has-text('财务复核')")
    assert page.input_value(f"#f-{r}-s1-name") == "财务复核"
    assert page.input_value(f"#f-{r}-s2-name") == "风控经理审批"
    assert page.locator("#designer-dirty").is_visible()
    _accessible(page)

    # saving shows the field error in Chinese, next to the field and in the summary
    page.click("#save-draft")
    page.wait_for_selector("#designer-errors")
    assert "时限必须是大于 0 的整数" in page.inner_text("#designer-errors")
    assert page.get_attribute(f"#f-{r}-s1-deadline", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "designer-errors"
    _shot(page, "errors")
    page.fill(f"#f-{r}-s1-deadline", "2")
    page.fill("#f-note", "上级审批，30 万以上加财务复核")
    page.press("#f-note", "Enter")  # Enter in a field saves (never removes or moves a step)
    page.locator(".alert-success").wait_for(state="visible")
    draft = FlowVersion.objects.get(status=FlowVersion.Status.DRAFT)
    steps = draft.definition["routes"]["standard"]["steps"]
    assert [s["name"] for s in steps] == ["分支机构负责人审批", "财务复核", "风控经理审批"]
    assert steps[0]["approvers"] == [{"manager": "team_lead"}]
    assert steps[1]["approvers"] == [{"user": "fin_fd"}]
    assert steps[1]["deadline_hours"] == 48 and steps[1]["condition"] == "amount_yuan >= 300000"

    # preview: 40 万, grade B, for 张经理 → who approves each step
    page.fill("#id_pv-amount", "400000")
    page.fill("#id_pv-risk_grade", "B")
    page.select_option("#id_pv-applicant", str(applicant.pk))
    page.click("#preview-btn")
    page.wait_for_selector("#preview-result")
    result = page.inner_text("#preview-result")
    assert "标准审批" in result
    assert "孙组长" in result and "钱主管" not in result
    assert "吴财务" in result and "孙风控" in result and "跳过" not in result
    _accessible(page)
    _shot(page, "preview")
    # 20 万 skips the finance step
    page.fill("#id_pv-amount", "200000")
    page.click("#preview-btn")
    page.wait_for_selector("#preview-result:has-text('跳过（条件不满足）')")
    assert page.console_errors == []

    # publish
    page.click("#publish-btn")
    page.wait_for_selector("#version-status:has-text('已发布')")
    draft.refresh_from_db()
    assert draft.status == FlowVersion.Status.PUBLISHED
    page.context.clear_cookies()

    # an application of 40 万 goes through the three designed steps, in order
    instance = services.approval_start(
        subject=applicant,
        flow_key=ORIGINATION_FLOW,
        context={
            "amount": 40_000_000,
            "months": 12,
            "risk_grade": "B",
            "branch": "ty",
            "applicant_id": applicant.pk,
        },
        actor=applicant,
        title="某某商贸 40 万经营贷",
    )
    assert instance.flow_version == draft and instance.route == "standard"
    _approve(page, login, own_lead, "分支机构负责人审批")
    _approve(page, login, finance, "财务复核")
    _approve(page, login, risk, "风控经理审批")
    instance.refresh_from_db()
    assert instance.status == ApprovalInstance.Status.APPROVED
    assert list(instance.tasks.order_by("id").values_list("assignee__username", flat=True)) == [
        "lead_fd",
        "fin_fd",
        "risk_fd",
    ]
