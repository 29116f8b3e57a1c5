"""Browser: a two-step standard approval decided by two different users from their inbox."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.accounts.models import DataScope, Role
from credo.approvals import services
from credo.approvals.models import ApprovalInstance
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _role(code, name, scope=DataScope.ALL):
    role, _created = Role.objects.get_or_create(
        code=code, defaults={"name": name, "data_scope": scope}
    )
    role.permissions.add(
        Permission.objects.get(
            content_type__app_label="approvals", codename="view_approvalinstance"
        )
    )
    return role


def test_two_level_approval_from_inbox(page, login, org):
    applicant = UserFactory(
        username="am_e2e", org_unit=org["team_a"], roles=[_role("account_manager", "客户经理")]
    )
    lead = UserFactory(
        username="lead_e2e",
        display_name="赵主管",
        org_unit=org["team_b"],
        roles=[_role("team_lead", "团队主管")],
    )
    risk = UserFactory(
        username="risk_e2e",
        display_name="孙风控",
        org_unit=org["head"],
        roles=[_role("risk_manager", "风控经理")],
    )
    instance = services.approval_start(
        subject=applicant,
        flow_key="origination.application",
        context={
            "amount": 30_000_000,
            "months": 24,
            "risk_grade": "B",
            "branch": "ty",
            "applicant_id": applicant.pk,
        },
        actor=applicant,
        title="某某商贸 30 万经营贷",
    )
    assert instance.route == "standard"

    # step 1: the branch's team lead lowers the amount and approves
    login(lead)
    page.goto(f"{page.base_url}/approvals/inbox/")
    assert page.locator("#count-open").inner_text() == "1"
    page.get_by_role("link", name="处理").click()
    page.wait_for_url("**/approvals/tasks/*/")
    page.fill("#approve-amount", "250000")
    page.fill("#approve-comment", "同意，金额调整为 25 万")
    page.click("#approve-submit")
    page.locator(".alert-success").wait_for(state="visible")
    assert "已批准" in page.locator(".alert-success").inner_text()
    assert page.locator("#approval-actions-card").count() == 0
    assert page.console_errors == []
    page.context.clear_cookies()

    # step 2: the risk manager approves from the inbox
    login(risk)
    page.goto(f"{page.base_url}/approvals/inbox/")
    row = page.locator(".inbox-row")
    assert row.count() == 1 and "风控经理审批" in row.inner_text()
    assert "250,000.00" in row.inner_text()
    row.get_by_role("link", name="处理").click()
    page.wait_for_url("**/approvals/tasks/*/")
    page.fill("#approve-comment", "同意")
    page.click("#approve-submit")
    page.locator("#approval-status").wait_for(state="visible")
    assert page.locator("#approval-status").inner_text() == "已通过"
    trail = page.locator("#approval-steps").inner_text()
    assert "赵主管" in trail and "孙风控" in trail and "250,000.00" in trail
    assert page.console_errors == []

    instance.refresh_from_db()
    assert instance.status == ApprovalInstance.Status.APPROVED
    assert instance.decided_amount == 25_000_000
    assert list(instance.tasks.values_list("decided_by__username", flat=True)) == [
        "lead_e2e",
        "risk_e2e",
    ]
