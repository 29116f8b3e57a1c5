"""The approval transition tables (issue 17): every allowed transition listed literally, every
other pair refused, and a refused transition in a service changes nothing."""

from __future__ import annotations

import pytest

from credo.approvals import services
from credo.approvals.errors import InvalidState
from credo.approvals.models import ApprovalAction, ApprovalInstance, ApprovalTask, FlowVersion
from credo.approvals.states import FLOW_VERSION_MACHINE, INSTANCE_MACHINE, TASK_MACHINE
from credo.core import fsm
from credo.core.audit.models import AuditEntry
from tests.fsm_tables import assert_table

INSTANCE_ALLOWED = {
    ("running", "approved"),
    ("running", "rejected"),
    ("running", "returned"),
    ("running", "cancelled"),
    ("returned", "running"),
    ("returned", "cancelled"),
}
TASK_ALLOWED = {
    ("open", "approved"),
    ("open", "rejected"),
    ("open", "returned"),
    ("open", "transferred"),
    ("open", "escalated"),
    ("open", "skipped"),
}
FLOW_VERSION_ALLOWED = {("draft", "published"), ("published", "retired")}

CASES = [
    (INSTANCE_MACHINE, ApprovalInstance.Status, INSTANCE_ALLOWED, {"running"}),
    (TASK_MACHINE, ApprovalTask.Status, TASK_ALLOWED, {"open"}),
    (FLOW_VERSION_MACHINE, FlowVersion.Status, FLOW_VERSION_ALLOWED, {"draft", "published"}),
]


@pytest.mark.parametrize(("machine", "choices", "allowed", "initial"), CASES)
def test_table_is_exactly_the_listed_transitions(machine, choices, allowed, initial):
    assert set(machine.pairs()) == allowed
    assert machine.initial == frozenset(initial)
    assert fsm.machine_for(machine.model) is machine
    assert machine.states == frozenset(choices.values)


@pytest.mark.parametrize(("machine", "choices", "allowed", "initial"), CASES)
def test_every_pair_allowed_or_refused(machine, choices, allowed, initial):
    assert_table(machine, choices.values, allowed)


@pytest.mark.django_db
def test_refused_cancel_raises_domain_error_and_changes_nothing(start, approvers):
    instance = start()
    services.approval_cancel(instance=instance, actor=approvers["cc"], reason="客户撤回")
    instance.refresh_from_db()
    before = (instance.status, instance.decided_at)
    counts = (ApprovalAction.objects.count(), AuditEntry.objects.count())
    with pytest.raises(InvalidState, match="该审批已结束，不能撤销。"):
        services.approval_cancel(instance=instance, actor=approvers["cc"], reason="再撤一次")
    instance.refresh_from_db()
    assert (instance.status, instance.decided_at) == before
    assert (ApprovalAction.objects.count(), AuditEntry.objects.count()) == counts


@pytest.mark.django_db
def test_fsm_refuses_closing_a_closed_task(start, approvers):
    instance = start()
    task = instance.tasks.get(assignee=approvers["lead"])
    services.approval_act(task=task, actor=approvers["lead"], action="approve")
    task.refresh_from_db()
    with pytest.raises(fsm.TransitionRefused):
        fsm.transition(task, ApprovalTask.Status.SKIPPED)
    task.refresh_from_db()
    assert task.status == ApprovalTask.Status.APPROVED
