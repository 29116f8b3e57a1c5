"""Browser, issue 16 item 2: the team lead who submitted an application owned by another manager
gets no task, sees no actions and is told why; the other team lead approves."""

from __future__ import annotations

import pytest

from credo.approvals import services
from credo.approvals.models import ApprovalTask
from tests.e2e.test_approvals import _role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_submitter_cannot_approve_in_the_browser(page, login, org):
    manager = UserFactory(
        username="am16", org_unit=org["team_a"], roles=[_role("account_manager", "客户经理")]
    )
    lead_role = _role("team_lead", "团队主管")
    submitter = UserFactory(
        username="lead16", display_name="赵主管", org_unit=org["team_b"], roles=[lead_role]
    )
    other = UserFactory(
        username="lead16b", display_name="钱主管", org_unit=org["team_c"], roles=[lead_role]
    )
    UserFactory(username="risk16", org_unit=org["head"], roles=[_role("risk_manager", "风控经理")])
    instance = services.approval_start(
        subject=manager,
        flow_key="origination.application",
        context={
            "amount": 30_000_000,
            "months": 24,
            "risk_grade": "B",
            "branch": "ty",
            "applicant_id": manager.pk,
        },
        actor=submitter,
        title="某某商贸 30 万经营贷",
    )
    [task] = instance.tasks.all()
    assert task.assignee == other

    # the submitter: nothing in the inbox, no actions on the task, a clear explanation
    login(submitter)
    page.goto(f"{page.base_url}/approvals/inbox/")
    assert page.locator("#count-open").inner_text() == "0"
    page.goto(f"{page.base_url}/approvals/tasks/{task.pk}/")
    notice = page.locator("#approval-conflict")
    notice.wait_for(state="visible")
    assert "您是本申请的提交人，不能审批" in notice.inner_text()
    assert page.locator("#approve-form").count() == 0
    assert page.locator("#approval-actions-card").count() == 0
    assert page.console_errors == []
    page.context.clear_cookies()

    # the other team lead approves from the inbox
    login(other)
    page.goto(f"{page.base_url}/approvals/inbox/")
    assert page.locator("#count-open").inner_text() == "1"
    page.get_by_role("link", name="处理").click()
    page.wait_for_url("**/approvals/tasks/*/")
    assert page.locator("#approval-conflict").count() == 0
    page.click("#approve-submit")
    page.locator(".alert-success").wait_for(state="visible")
    task.refresh_from_db()
    assert task.status == ApprovalTask.Status.APPROVED and task.decided_by == other
    assert page.console_errors == []
