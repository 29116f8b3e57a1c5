"""Issue 16 item 2: segregation of duties in approvals.

Nobody may act on a task of an approval instance who is its owner (the applicant), the
subject's creator, its submitter, or — unless the flow version sets
``allow_same_approver_across_steps`` — who decided an earlier step (or another 会签 slot).
Routing, escalation, transfer, the inbox, the task page and the act service all apply it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from credo.approvals import selectors, services
from credo.approvals.errors import ApprovalError, ConflictOfInterest, InvalidDefinition
from credo.approvals.models import ApprovalAction, ApprovalInstance, ApprovalTask, FlowVersion
from credo.approvals.templatetags.approvals import transfer_candidates
from credo.core.audit.models import AuditEntry
from tests.approvals.conftest import FLOW
from tests.approvals.test_api import API, auth, post

pytestmark = pytest.mark.django_db


def snapshot(instance: ApprovalInstance):
    instance.refresh_from_db()
    return (
        instance.status,
        instance.current_step,
        instance.decided_amount,
        sorted(instance.tasks.values_list("id", "status", "assignee_id")),
        instance.actions.count(),
    )


def refusals(**meta):
    rows = AuditEntry.objects.filter(action="approval.refused")
    return [r for r in rows if all(r.metadata.get(k) == v for k, v in meta.items())]


def start_as(actor, context, subject, amount=20_000_000, **extra):
    return services.approval_start(
        subject=subject,
        flow_key=FLOW,
        context=context(amount, **extra),
        actor=actor,
        title="测试申请",
        url="/approvals/inbox/",
    )


def publish_v2(change, actor):
    flow = services.ensure_flow(FLOW)
    draft = services.flow_version_create(flow=flow, actor=actor)
    definition = dict(draft.definition)
    change(definition)
    services.flow_version_update(version=draft, definition=definition, actor=actor)
    return services.flow_version_publish(version=draft, actor=actor)


# --- the reported case: a team lead submits an application owned by another manager -------------
def test_submitter_is_not_routed_and_cannot_approve(approvers, owner, context, subject):
    a = approvers
    instance = start_as(a["lead"], context, subject)
    assert instance.owner == owner and instance.started_by == a["lead"]
    # the branch's own team lead submitted: the step goes to the other team lead
    assert {t.assignee_id for t in instance.tasks.all()} == {a["lead2"].pk}
    task = instance.tasks.get()
    before = snapshot(instance)
    for action in ("approve", "reject", "return", "transfer"):
        with pytest.raises(ConflictOfInterest, match="您是本申请的提交人，不能审批") as exc:
            services.approval_act(
                task=task,
                actor=a["lead"],
                action=action,
                comment="x",
                transfer_to=a["cc"].pk if action == "transfer" else None,
            )
        assert exc.value.code == "conflict_of_interest" and exc.value.status == 403
    assert snapshot(instance) == before
    rows = refusals(code="conflict_of_interest", reason="submitter")
    assert len(rows) == 4 and {r.actor_id for r in rows} == {a["lead"].pk}
    assert rows[0].object_id == str(instance.pk) and rows[0].metadata["task"] == task.pk
    services.approval_act(task=task, actor=a["lead2"], action="approve")
    instance.refresh_from_db()
    assert instance.current_step == 1


def test_submitter_with_a_legacy_task_cannot_act_and_does_not_see_it(
    approvers, owner, context, subject
):
    """A task already assigned to the submitter (routed before the rule existed) stays out of
    their inbox, shows no actions and is refused."""
    a = approvers
    instance = start_as(a["lead"], context, subject)
    task = instance.tasks.get()
    ApprovalTask.objects.filter(pk=task.pk).update(assignee=a["lead"])
    assert list(selectors.open_tasks_for(a["lead"])) == []
    assert selectors.inbox_counts(a["lead"]) == {"open": 0, "overdue": 0}
    assert selectors.open_task_of(instance, a["lead"]) is None
    assert selectors.conflict_notice(instance, a["lead"]) == "您是本申请的提交人，不能审批。"
    with pytest.raises(ConflictOfInterest):
        services.approval_act(task=task, actor=a["lead"], action="approve")


def test_owner_and_creator_are_excluded(approvers, owner, context):
    """The subject's creator (``created_by``) is copied at start and kept off every task."""
    a = approvers
    subject = FlowVersion.objects.create(
        flow=services.ensure_flow(FLOW), number=99, status="retired", created_by=a["lead"]
    )
    instance = start_as(owner, context, subject)
    assert instance.subject_creator == a["lead"]
    assert a["lead"].pk not in {t.assignee_id for t in instance.tasks.all()}
    task = instance.tasks.get(assignee=a["lead2"])
    with pytest.raises(ConflictOfInterest, match="您是本申请的创建人") as exc:
        services.approval_act(task=task, actor=a["lead"], action="approve")
    assert exc.value.reason == "creator"
    with pytest.raises(ConflictOfInterest, match="您是本申请的申请人") as exc:
        services.approval_act(task=task, actor=owner, action="approve")
    assert exc.value.reason == "owner"
    # an instance started before the creator was copied: the subject is asked
    ApprovalInstance.objects.filter(pk=instance.pk).update(subject_creator=None)
    instance.refresh_from_db()
    assert selectors.approval_conflicts(instance, step=0)[a["lead"].pk] == "creator"
    with pytest.raises(ConflictOfInterest):
        services.approval_act(task=task, actor=a["lead"], action="approve")


# --- earlier steps and the per-flow flag ---------------------------------------------------------
def test_earlier_step_approver_excluded_from_later_steps(approvers, owner, context, subject):
    a = approvers
    risk_role = a["risk"].roles.get(code="risk_manager")
    a["lead"].roles.add(risk_role)
    instance = start_as(owner, context, subject)
    services.approval_act(
        task=instance.tasks.get(assignee=a["lead"]), actor=a["lead"], action="approve"
    )
    instance.refresh_from_db()
    assert instance.current_step == 1
    step2 = list(instance.tasks.filter(step=1))
    assert {t.assignee_id for t in step2} == {a["risk"].pk, a["risk2"].pk}
    before = snapshot(instance)
    with pytest.raises(ConflictOfInterest, match="前序步骤审批人") as exc:
        services.approval_act(task=step2[0], actor=a["lead"], action="approve")
    assert exc.value.reason == "earlier_step"
    assert snapshot(instance) == before
    assert refusals(reason="earlier_step")


def test_flag_allows_the_same_approver_across_steps(approvers, owner, context, subject):
    a = approvers
    a["lead"].roles.add(a["risk"].roles.get(code="risk_manager"))
    version = publish_v2(lambda d: d.update(allow_same_approver_across_steps=True), a["cc"])
    assert version.allows_same_approver
    instance = start_as(owner, context, subject)
    services.approval_act(
        task=instance.tasks.get(assignee=a["lead"]), actor=a["lead"], action="approve"
    )
    instance.refresh_from_db()
    assert a["lead"].pk in set(instance.tasks.filter(step=1).values_list("assignee_id", flat=True))
    services.approval_act(
        task=instance.tasks.get(step=1, assignee=a["lead"]), actor=a["lead"], action="approve"
    )
    instance.refresh_from_db()
    assert instance.status == "approved"
    # the flag never relaxes owner / creator / submitter
    other = start_as(a["lead"], context, a["risk"])
    assert a["lead"].pk not in set(other.tasks.values_list("assignee_id", flat=True))


def test_flag_is_validated_and_shown(approvers, client: Client, admin_user):
    flow = services.ensure_flow(FLOW)
    draft = services.flow_version_create(flow=flow, actor=approvers["cc"])
    for bad in ("yes", 1, None):
        with pytest.raises(InvalidDefinition, match="allow_same_approver_across_steps"):
            services.validate_definition(
                {**draft.definition, "allow_same_approver_across_steps": bad}
            )
    client.force_login(admin_user)
    page = client.get(f"/approvals/versions/{draft.pk}/").content.decode()
    assert 'id="same-approver-flag"' in page and "不允许（默认）" in page
    services.flow_version_update(
        version=draft,
        definition={**draft.definition, "allow_same_approver_across_steps": True},
        actor=admin_user,
    )
    page = client.get(f"/approvals/versions/{draft.pk}/").content.decode()
    assert "允许</span>" in page


# --- 会签 ----------------------------------------------------------------------------------------
def test_countersign_one_person_one_slot(approvers, owner, context, subject):
    a = approvers
    a["risk"].roles.add(a["fin"].roles.get(code="finance"))
    instance = start_as(owner, context, subject, amount=60_000_000)
    assert instance.route == "large"
    by_slot = {
        slot: set(instance.tasks.filter(slot=slot).values_list("assignee_id", flat=True))
        for slot in (0, 1, 2)
    }
    assert by_slot == {0: {a["risk"].pk, a["risk2"].pk}, 1: {a["fin"].pk}, 2: {a["gm"].pk}}
    services.approval_act(
        task=instance.tasks.get(slot=0, assignee=a["risk"]), actor=a["risk"], action="approve"
    )
    fin_task = instance.tasks.get(slot=1)
    before = snapshot(instance)
    # risk holds the finance role too, but already filled the risk slot
    with pytest.raises(ConflictOfInterest) as exc:
        services.approval_act(task=fin_task, actor=a["risk"], action="approve")
    assert exc.value.reason == "same_step"
    assert snapshot(instance) == before


def test_countersign_slot_nobody_else_can_fill_goes_to_escalation(
    approvers, owner, context, subject
):
    a = approvers
    a["risk"].roles.add(a["fin"].roles.get(code="finance"))
    a["fin"].is_active = False
    a["fin"].save()
    instance = start_as(owner, context, subject, amount=60_000_000)
    slot1 = list(instance.tasks.filter(slot=1))
    assert [(t.assignee_id, t.role) for t in slot1] == [(a["cc"].pk, "credit_committee")]
    escalation = instance.actions.get(kind=ApprovalAction.Kind.ESCALATE)
    assert escalation.detail["reason"] == "conflict_of_interest"
    assert escalation.detail["to"] == [a["cc"].pk]


def test_empty_pool_everywhere_refuses_start(approvers, owner, context, subject):
    """The submitting team lead is excluded, the other lead and the escalation target are
    inactive → no approver: the start is refused and nothing is created."""
    a = approvers
    for user in (a["lead2"], a["cc"]):
        user.is_active = False
        user.save()
    with pytest.raises(ApprovalError, match="都需回避") as exc:
        start_as(a["lead"], context, subject)
    assert exc.value.code == "no_approver"
    assert not ApprovalInstance.objects.exists() and not ApprovalTask.objects.exists()


def test_empty_pool_falls_back_to_escalation_target(approvers, owner, context, subject):
    a = approvers
    a["lead2"].is_active = False
    a["lead2"].save()
    instance = start_as(a["lead"], context, subject)
    assert [t.assignee_id for t in instance.tasks.all()] == [a["cc"].pk]
    services.approval_act(task=instance.tasks.get(), actor=a["cc"], action="approve")
    instance.refresh_from_db()
    assert instance.current_step == 1


# --- transfer and escalation ---------------------------------------------------------------------
def test_transfer_to_an_excluded_person_refused(approvers, owner, context, subject):
    a = approvers
    instance = start_as(a["lead"], context, subject)
    task = instance.tasks.get(assignee=a["lead2"])
    candidates = {u.pk for u in transfer_candidates(task, a["lead2"])}
    assert a["lead"].pk not in candidates and owner.pk not in candidates
    before = snapshot(instance)
    for target, reason in ((a["lead"], "submitter"), (owner, "owner")):
        with pytest.raises(ConflictOfInterest, match="需回避") as exc:
            services.approval_act(
                task=task, actor=a["lead2"], action="transfer", transfer_to=target.pk
            )
        assert exc.value.reason == reason
    assert snapshot(instance) == before


def test_overdue_escalation_skips_excluded_people(approvers, owner, context, subject):
    a = approvers
    instance = start_as(a["cc"], context, subject)  # the committee member submitted
    task = instance.tasks.get(assignee=a["lead"])
    later = timezone.now() + dt.timedelta(hours=25)
    assert services.approvals_escalate_overdue(now=later) == 0
    task.refresh_from_db()
    assert task.status == ApprovalTask.Status.OPEN
    assert a["cc"].pk not in set(instance.tasks.values_list("assignee_id", flat=True))


# --- API and pages -------------------------------------------------------------------------------
def test_api_act_by_submitter_is_403_conflict_of_interest(
    client: Client, approvers, owner, context, subject
):
    a = approvers
    instance = start_as(a["lead"], context, subject)
    task = instance.tasks.get()
    resp = post(client, f"{API}/tasks/{task.pk}/act", {"action": "approve"}, auth(a["lead"]))
    assert resp.status_code == 403, resp.content
    body = resp.json()
    assert body["code"] == "conflict_of_interest"
    assert body["message"] == "您是本申请的提交人，不能审批。"
    assert body["details"] == {"reason": "submitter"}
    assert len(refusals(code="conflict_of_interest", reason="submitter")) == 1
    task.refresh_from_db()
    assert task.status == ApprovalTask.Status.OPEN
    # the submitter's task list is empty; the eligible lead sees the task
    ApprovalTask.objects.filter(pk=task.pk).update(assignee=a["lead"])
    listed = client.get(f"{API}/tasks", **auth(a["lead"])).json()
    assert listed["items"] == []


def test_task_page_shows_no_actions_and_explains(
    client: Client, approvers, owner, context, subject
):
    a = approvers
    instance = start_as(a["lead"], context, subject)
    task = instance.tasks.get()
    client.force_login(a["lead"])  # holds the role of the open role task
    page = client.get(f"/approvals/tasks/{task.pk}/").content.decode()
    assert 'id="approval-conflict"' in page and "您是本申请的提交人，不能审批" in page
    assert 'id="approve-form"' not in page
    resp = client.post(f"/approvals/tasks/{task.pk}/act/", {"action": "approve"})
    assert resp.status_code == 302
    task.refresh_from_db()
    assert task.status == ApprovalTask.Status.OPEN
    assert refusals(reason="submitter")
    client.force_login(a["lead2"])
    page = client.get(f"/approvals/tasks/{task.pk}/").content.decode()
    assert 'id="approve-form"' in page and 'id="approval-conflict"' not in page
    inbox = client.get("/approvals/inbox/").content.decode()
    assert f'data-task="{task.pk}"' in inbox


def test_inbox_query_agrees_with_the_rule(approvers, owner, context, subject):
    """``open_tasks_for`` (SQL) excludes exactly the tasks ``approval_conflicts`` forbids."""
    a = approvers
    a["lead"].roles.add(a["risk"].roles.get(code="risk_manager"))
    first = start_as(owner, context, subject)
    services.approval_act(
        task=first.tasks.get(assignee=a["lead"]), actor=a["lead"], action="approve"
    )
    second = start_as(a["lead"], context, a["risk"])
    publish_v2(lambda d: d.update(allow_same_approver_across_steps=True), a["cc"])
    third = start_as(owner, context, a["gm"])
    services.approval_act(
        task=third.tasks.get(assignee=a["lead"]), actor=a["lead"], action="approve"
    )
    # legacy rows: hand every open task to lead, then compare both forms of the rule
    ApprovalTask.objects.filter(status="open").update(assignee=a["lead"])
    listed = set(selectors.open_tasks_for(a["lead"]).values_list("pk", flat=True))
    expected = set()
    for task in ApprovalTask.objects.filter(status="open").select_related("instance"):
        conflicts = selectors.approval_conflicts(task.instance, step=task.step, slot=task.slot)
        if a["lead"].pk not in conflicts:
            expected.add(task.pk)
    assert listed == expected
    # the first's step 2 (earlier_step) and the second (submitter) are out; the third's flow
    # allows the same approver across steps
    assert listed == set(third.tasks.filter(status="open").values_list("pk", flat=True))
    assert len(listed) == 3
    assert ApprovalTask.objects.filter(instance=second, status="open").exists()
