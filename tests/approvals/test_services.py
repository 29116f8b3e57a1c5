from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.utils import timezone

from credo.approvals import selectors, services
from credo.approvals.errors import ApprovalError, InvalidDefinition
from credo.approvals.models import (
    ApprovalAction,
    ApprovalFlow,
    ApprovalInstance,
    ApprovalTask,
    FlowVersion,
)
from credo.core.audit.models import AuditEntry
from credo.core.todo.models import Todo
from tests.approvals.conftest import FLOW
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = ApprovalTask.Status


def open_tasks(instance):
    return list(instance.tasks.filter(status=S.OPEN).order_by("id"))


def task_of(instance, user):
    return instance.tasks.get(assignee=user, status=S.OPEN)


def snapshot(instance):
    instance.refresh_from_db()
    return (
        instance.status,
        instance.current_step,
        instance.decided_amount,
        instance.decided_months,
        sorted(instance.tasks.values_list("id", "status")),
        instance.actions.count(),
    )


def refusals():
    return AuditEntry.objects.filter(action="approval.refused").count()


def publish_v2(mutate, actor):
    flow = services.ensure_flow(FLOW)
    draft = services.flow_version_create(flow=flow, actor=actor)
    definition = copy.deepcopy(draft.definition)
    mutate(definition)
    services.flow_version_update(version=draft, definition=definition, actor=actor)
    return services.flow_version_publish(version=draft, actor=actor)


# --- routing -------------------------------------------------------------------------------------
def test_route_auto_approves_at_once(start, outcomes, subject):
    instance = start(amount=5_000_000, grade="A")
    assert instance.route == "auto"
    assert instance.status == ApprovalInstance.Status.APPROVED
    assert instance.tasks.count() == 0
    assert outcomes == [(instance.pk, "approved", None, None)]
    assert instance.route_evaluation.version.number == 1
    assert instance.route_evaluation.model_key == "approvals.route"
    assert selectors.instance_for(subject) == instance


def test_steps_added_to_the_auto_route_are_used(start, approvers):
    """The designer lets a lender put a step on the ``auto`` route: it is honoured (a route
    approves at once only when it has no step that applies)."""

    def add_step(d):
        d["routes"]["auto"]["steps"] = copy.deepcopy(d["routes"]["standard"]["steps"][:1])

    publish_v2(add_step, approvers["cc"])
    instance = start(amount=5_000_000, grade="A")
    assert instance.route == "auto"
    assert instance.status == ApprovalInstance.Status.RUNNING
    assert [t.assignee for t in open_tasks(instance)] == [approvers["lead"]]


def test_route_standard_branch_lead_first(start, approvers, owner):
    instance = start(amount=20_000_000)
    assert instance.route == "standard" and instance.route_name == "标准审批"
    assert "50 万元" in instance.route_reason
    assert instance.flow_version.number == 1
    assert instance.route_evaluation.reasons
    # branch-scoped: only the team lead of the applicant's branch (lead2 is in 大同)
    assert [t.assignee for t in open_tasks(instance)] == [approvers["lead"]]
    assert instance.owner == owner and instance.branch.code == "ty"
    start_action = instance.actions.get(kind="start")
    assert start_action.detail["route"] == "standard"
    assert start_action.detail["decision"] == "approvals.route v1"


def test_route_large_countersign_slots(start, approvers):
    instance = start(amount=50_000_001, grade="A")
    assert instance.route == "large"
    tasks = open_tasks(instance)
    assert {(t.slot, t.assignee.username) for t in tasks} == {
        (0, "risk"),
        (0, "risk2"),
        (1, "fin"),
        (2, "gm"),
    }
    assert all(t.mode == "all" for t in tasks)


def test_start_twice_refused(start):
    start()
    with pytest.raises(ApprovalError):
        start()
    assert ApprovalInstance.objects.count() == 1


# --- 会签 / 或签 ----------------------------------------------------------------------------------
def test_countersign_needs_every_slot(start, approvers, outcomes):
    a = approvers
    instance = start(amount=80_000_000)
    services.approval_act(task=task_of(instance, a["risk"]), actor=a["risk"], action="approve")
    instance.refresh_from_db()
    assert instance.status == "running"
    # risk2 was in the same slot (risk manager): skipped, not needed any more
    assert instance.tasks.get(assignee=a["risk2"]).status == S.SKIPPED
    services.approval_act(task=task_of(instance, a["fin"]), actor=a["fin"], action="approve")
    instance.refresh_from_db()
    assert instance.status == "running" and outcomes == []
    services.approval_act(task=task_of(instance, a["gm"]), actor=a["gm"], action="approve")
    instance.refresh_from_db()
    assert instance.status == "approved"
    assert outcomes == [(instance.pk, "approved", None, None)]


def test_countersign_one_reject_rejects(start, approvers, outcomes):
    a = approvers
    instance = start(amount=80_000_000)
    services.approval_act(task=task_of(instance, a["risk"]), actor=a["risk"], action="approve")
    services.approval_act(
        task=task_of(instance, a["fin"]), actor=a["fin"], action="reject", comment="现金流不足"
    )
    instance.refresh_from_db()
    assert instance.status == "rejected"
    assert open_tasks(instance) == []
    assert instance.tasks.get(assignee=a["gm"]).status == S.SKIPPED
    assert outcomes == [(instance.pk, "rejected", None, None)]


def test_or_sign_first_approval_completes(start, approvers, outcomes):
    a = approvers
    instance = start()
    services.approval_act(task=task_of(instance, a["lead"]), actor=a["lead"], action="approve")
    instance.refresh_from_db()
    assert instance.current_step == 1
    assert {t.assignee.username for t in open_tasks(instance)} == {"risk", "risk2"}
    services.approval_act(task=task_of(instance, a["risk2"]), actor=a["risk2"], action="approve")
    instance.refresh_from_db()
    assert instance.status == "approved"
    assert instance.tasks.get(assignee=a["risk"]).status == S.SKIPPED
    assert outcomes == [(instance.pk, "approved", None, None)]
    # the skipped task can no longer be acted on
    before = snapshot(instance)
    with pytest.raises(ApprovalError):
        services.approval_act(
            task=instance.tasks.get(assignee=a["risk"]), actor=a["risk"], action="approve"
        )
    assert snapshot(instance) == before
    assert outcomes == [(instance.pk, "approved", None, None)]


def test_reject_needs_reason(start, approvers, outcomes):
    instance = start()
    before = snapshot(instance)
    with pytest.raises(ApprovalError, match="拒绝原因"):
        services.approval_act(
            task=task_of(instance, approvers["lead"]), actor=approvers["lead"], action="reject"
        )
    assert snapshot(instance) == before and outcomes == []
    services.approval_act(
        task=task_of(instance, approvers["lead"]),
        actor=approvers["lead"],
        action="reject",
        comment="资料不实",
    )
    instance.refresh_from_db()
    assert instance.status == "rejected" and outcomes == [(instance.pk, "rejected", None, None)]


# --- return / resume -----------------------------------------------------------------------------
def test_return_and_resume_restarts_the_step(start, approvers, owner, outcomes):
    a = approvers
    instance = start()
    services.approval_act(task=task_of(instance, a["lead"]), actor=a["lead"], action="approve")
    risk_task = task_of(instance, a["risk"])
    services.approval_act(
        task=risk_task, actor=a["risk"], action="return", comment="请补充近半年银行流水"
    )
    instance.refresh_from_db()
    assert instance.status == "returned" and instance.question == "请补充近半年银行流水"
    assert outcomes == [(instance.pk, "returned", None, None)]
    assert open_tasks(instance) == []
    todo = Todo.objects.get(user=owner, dedupe_key=f"approval-return:{instance.pk}")
    assert todo.status == Todo.Status.OPEN and todo.description == "请补充近半年银行流水"

    # somebody else cannot answer; nothing changes
    before = snapshot(instance)
    with pytest.raises(ApprovalError):
        services.approval_resume(instance=instance, actor=a["lead"], answer="x")
    assert snapshot(instance) == before

    services.approval_resume(instance=instance, actor=owner, answer="已上传流水")
    instance.refresh_from_db()
    assert instance.status == "running" and instance.current_step == 1 and instance.round == 2
    assert {t.assignee.username for t in open_tasks(instance)} == {"risk", "risk2"}
    todo.refresh_from_db()
    assert todo.status == Todo.Status.CANCELLED
    services.approval_act(task=task_of(instance, a["risk"]), actor=a["risk"], action="approve")
    instance.refresh_from_db()
    assert instance.status == "approved"
    assert [o for _i, o, *_rest in outcomes] == ["returned", "resumed", "approved"]
    kinds = list(instance.actions.values_list("kind", flat=True))
    assert kinds[:4] == ["start", "approve", "step_done", "return"]
    assert "resume" in kinds


def test_return_needs_question(start, approvers):
    instance = start()
    with pytest.raises(ApprovalError, match="问题"):
        services.approval_act(
            task=task_of(instance, approvers["lead"]), actor=approvers["lead"], action="return"
        )
    instance.refresh_from_db()
    assert instance.status == "running"


# --- transfer ------------------------------------------------------------------------------------
def test_transfer_to_role_holder(start, approvers):
    a = approvers
    instance = start()
    task = task_of(instance, a["lead"])
    services.approval_act(
        task=task, actor=a["lead"], action="transfer", transfer_to=a["lead2"], comment="出差"
    )
    task.refresh_from_db()
    assert task.status == S.TRANSFERRED
    new = task_of(instance, a["lead2"])
    assert new.previous == task and new.slot == task.slot
    assert Todo.objects.get(dedupe_key=f"approval-task:{task.pk}").status == "cancelled"
    assert Todo.objects.get(dedupe_key=f"approval-task:{new.pk}").status == "open"
    services.approval_act(task=new, actor=a["lead2"], action="approve")
    instance.refresh_from_db()
    assert instance.current_step == 1


def test_transfer_to_user_without_role_refused(start, approvers, owner):
    a = approvers
    instance = start()
    task = task_of(instance, a["lead"])
    before, audits = snapshot(instance), refusals()
    for target in (a["risk"], owner, a["lead"]):
        with pytest.raises(ApprovalError):
            services.approval_act(task=task, actor=a["lead"], action="transfer", transfer_to=target)
    assert snapshot(instance) == before
    assert refusals() == audits + 3


# --- amount / term -------------------------------------------------------------------------------
def test_lower_amount_and_term(start, approvers, outcomes):
    a = approvers
    instance = start(amount=20_000_000)
    services.approval_act(
        task=task_of(instance, a["lead"]),
        actor=a["lead"],
        action="approve",
        amount=15_000_000,
        months=6,
    )
    instance.refresh_from_db()
    assert (instance.decided_amount, instance.decided_months) == (15_000_000, 6)
    assert instance.amount == 15_000_000
    risk_task = task_of(instance, a["risk"])
    before = snapshot(instance)
    with pytest.raises(ApprovalError, match="不能高于"):  # raising back is refused
        services.approval_act(task=risk_task, actor=a["risk"], action="approve", amount=18_000_000)
    with pytest.raises(ApprovalError, match="不能长于"):
        services.approval_act(task=risk_task, actor=a["risk"], action="approve", months=12)
    with pytest.raises(ApprovalError, match="只有批准"):
        services.approval_act(
            task=risk_task, actor=a["risk"], action="reject", comment="x", amount=1
        )
    assert snapshot(instance) == before
    services.approval_act(task=risk_task, actor=a["risk"], action="approve", amount=12_000_000)
    instance.refresh_from_db()
    assert instance.status == "approved"
    assert outcomes == [(instance.pk, "approved", 12_000_000, 6)]


def test_above_step_authority_refused(start, approvers):
    a = approvers

    def limit(definition):
        definition["routes"]["standard"]["steps"][0]["max_amount"] = 10_000_000

    publish_v2(limit, a["cc"])
    instance = start(amount=20_000_000)
    assert instance.flow_version.number == 2
    task = task_of(instance, a["lead"])
    before, audits = snapshot(instance), refusals()
    with pytest.raises(ApprovalError, match="超出本级审批权限"):
        services.approval_act(task=task, actor=a["lead"], action="approve")
    with pytest.raises(ApprovalError, match="超出本级审批权限"):
        services.approval_act(task=task, actor=a["lead"], action="approve", amount=10_000_001)
    assert snapshot(instance) == before and refusals() == audits + 2
    services.approval_act(task=task, actor=a["lead"], action="approve", amount=10_000_000)
    instance.refresh_from_db()
    assert instance.current_step == 1 and instance.decided_amount == 10_000_000


# --- guards --------------------------------------------------------------------------------------
def test_self_approval_refused_audited_nothing_changed(start, approvers, owner, outcomes):
    # the applicant also holds the team lead role: never assigned, and cannot act
    owner.roles.add(approvers["lead"].roles.get(code="team_lead"))
    instance = start()
    assert owner.pk not in {t.assignee_id for t in instance.tasks.all()}
    task = task_of(instance, approvers["lead"])
    before, audits = snapshot(instance), refusals()
    with pytest.raises(ApprovalError, match="您是本申请的申请人，不能审批") as exc:
        services.approval_act(task=task, actor=owner, action="approve")
    assert exc.value.code == "conflict_of_interest"
    assert snapshot(instance) == before and outcomes == []
    assert refusals() == audits + 1
    entry = AuditEntry.objects.filter(action="approval.refused").latest("id")
    assert entry.actor_id == owner.pk and entry.object_id == str(instance.pk)
    assert entry.metadata["action"] == "approve" and entry.metadata["task"] == task.pk


def test_non_assignee_refused(start, approvers, outsider):
    instance = start()
    task = task_of(instance, approvers["lead"])
    before, audits = snapshot(instance), refusals()
    for user in (approvers["risk"], outsider):
        with pytest.raises(ApprovalError, match="不是该审批任务的审批人"):
            services.approval_act(task=task, actor=user, action="approve")
    assert snapshot(instance) == before and refusals() == audits + 2


def test_role_holder_may_act_on_role_task(start, approvers):
    # lead2 holds the step's role (other branch, not assigned) → may act on the role task
    instance = start()
    services.approval_act(
        task=task_of(instance, approvers["lead"]), actor=approvers["lead2"], action="approve"
    )
    instance.refresh_from_db()
    assert instance.current_step == 1
    task = instance.tasks.get(step=0)
    assert task.decided_by == approvers["lead2"] and task.status == S.APPROVED


def test_unknown_action_refused(start, approvers):
    instance = start()
    before = snapshot(instance)
    with pytest.raises(ApprovalError):
        services.approval_act(
            task=task_of(instance, approvers["lead"]), actor=approvers["lead"], action="delete"
        )
    assert snapshot(instance) == before


# --- todos ---------------------------------------------------------------------------------------
def test_task_todo_created_and_completed(start, approvers):
    instance = start()
    task = task_of(instance, approvers["lead"])
    todo = Todo.objects.get(user=approvers["lead"], dedupe_key=f"approval-task:{task.pk}")
    assert todo.status == "open" and todo.url == f"/approvals/tasks/{task.pk}/"
    assert todo.source == "approvals" and "测试申请" in todo.title
    services.approval_act(task=task, actor=approvers["lead"], action="approve")
    todo.refresh_from_db()
    assert todo.status == "done"
    skipped = Todo.objects.filter(user=approvers["risk2"], source="approvals").get()
    assert skipped.status == "open"
    services.approval_act(
        task=task_of(instance, approvers["risk"]), actor=approvers["risk"], action="approve"
    )
    skipped.refresh_from_db()
    assert skipped.status == "cancelled"


# --- escalation ----------------------------------------------------------------------------------
def test_escalation_with_explicit_now(start, approvers):
    a = approvers
    instance = start()
    task = task_of(instance, a["lead"])
    assert task.due_at is not None
    assert services.approvals_escalate_overdue(now=task.due_at - dt.timedelta(minutes=1)) == 0
    task.refresh_from_db()
    assert task.status == S.OPEN
    later = task.due_at + dt.timedelta(minutes=1)
    assert services.approvals_escalate_overdue(now=later) == 1
    task.refresh_from_db()
    assert task.status == S.ESCALATED
    new = task_of(instance, a["cc"])
    assert new.previous == task and new.due_at == later + dt.timedelta(hours=24)
    assert Todo.objects.get(dedupe_key=f"approval-task:{task.pk}").status == "cancelled"
    assert instance.actions.filter(kind="escalate").count() == 1
    # one level only; running again changes nothing
    assert services.approvals_escalate_overdue(now=later + dt.timedelta(days=5)) == 0
    services.approval_act(task=new, actor=a["cc"], action="approve")
    instance.refresh_from_db()
    assert instance.current_step == 1


def test_escalation_skips_finished_instances(start, approvers):
    instance = start()
    task = task_of(instance, approvers["lead"])
    services.approval_act(task=task, actor=approvers["lead"], action="reject", comment="不符合")
    assert services.approvals_escalate_overdue(now=timezone.now() + dt.timedelta(days=3)) == 0


def test_escalate_task_function(start, approvers):
    from credo.approvals.tasks import escalate_overdue

    start()
    assert escalate_overdue.call() == 0


# --- versions ------------------------------------------------------------------------------------
def test_running_instance_keeps_its_version(start, approvers, subject, owner):
    a = approvers

    def risk_by_committee(definition):
        definition["routes"]["standard"]["steps"][1]["approvers"] = [{"role": "credit_committee"}]
        definition["routes"]["standard"]["steps"][1]["name"] = "审批委员会审批"

    first = start()
    assert first.flow_version.number == 1
    v2 = publish_v2(risk_by_committee, a["cc"])
    assert v2.status == "published"
    assert FlowVersion.objects.get(flow__key=FLOW, number=1).status == "retired"
    services.approval_act(task=task_of(first, a["lead"]), actor=a["lead"], action="approve")
    first.refresh_from_db()
    assert first.flow_version.number == 1
    assert {t.assignee.username for t in open_tasks(first)} == {"risk", "risk2"}
    second = start(subj=owner)
    assert second.flow_version == v2
    services.approval_act(task=task_of(second, a["lead"]), actor=a["lead"], action="approve")
    assert [t.assignee.username for t in open_tasks(second)] == ["cc"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["routes"]["standard"]["steps"][0].update(approvers=[{"role": "nope"}]),
            "角色“nope”不存在",
        ),
        (
            lambda d: d["routes"]["standard"]["steps"][0].update(approvers=[{"user": "ghost"}]),
            "用户“ghost”不存在",
        ),
        (lambda d: d["routes"]["standard"].update(steps=[]), "没有审批步骤"),
        (lambda d: d["routes"]["large"]["steps"][0].update(mode="some"), "会签"),
        (lambda d: d["routes"]["large"]["steps"][0].update(approvers=[]), "没有审批人"),
        (lambda d: d["routes"]["large"]["steps"][0].update(max_amount=-5), "正整数"),
        (lambda d: d.update(routes={}), "至少需要一条"),
    ],
)
def test_invalid_definition_nothing_saved(approvers, mutate, message):
    flow = services.ensure_flow(FLOW)
    draft = services.flow_version_create(flow=flow, actor=approvers["cc"])
    saved = copy.deepcopy(draft.definition)
    bad = copy.deepcopy(saved)
    mutate(bad)
    with pytest.raises(InvalidDefinition, match=message):
        services.flow_version_update(version=draft, definition=bad, actor=approvers["cc"])
    draft.refresh_from_db()
    assert draft.definition == saved


def test_publish_only_drafts_and_one_draft(approvers):
    flow = services.ensure_flow(FLOW)
    published = flow.published
    with pytest.raises(ApprovalError):
        services.flow_version_publish(version=published, actor=approvers["cc"])
    with pytest.raises(ApprovalError):
        services.flow_version_update(version=published, definition={}, actor=approvers["cc"])
    services.flow_version_create(flow=flow, actor=approvers["cc"])
    with pytest.raises(ApprovalError):
        services.flow_version_create(flow=flow, actor=approvers["cc"])
    assert flow.versions.count() == 2


def test_default_flow_installed_once():
    first = services.ensure_flow(FLOW)
    again = services.ensure_flow(FLOW)
    assert first == again and ApprovalFlow.objects.count() == 1
    assert set(first.published.definition["routes"]) == {"auto", "standard", "large"}
    with pytest.raises(ApprovalError):
        services.ensure_flow("nope.flow")


def test_no_approver_refuses_start(start, approvers, subject):
    approvers["lead"].roles.clear()
    approvers["lead2"].roles.clear()
    with pytest.raises(ApprovalError, match="找不到可指派的审批人"):
        start()
    assert ApprovalInstance.objects.count() == 0
    assert ApprovalAction.objects.count() == 0


def test_cancel(start, approvers):
    instance = start()
    services.approval_cancel(instance=instance, actor=approvers["cc"], reason="客户撤回")
    instance.refresh_from_db()
    assert instance.status == "cancelled" and open_tasks(instance) == []


def test_selectors_scope(start, approvers, owner, colleague, outsider):
    instance = start()
    assert list(selectors.open_tasks_for(approvers["lead"])) == [
        task_of(instance, approvers["lead"])
    ]
    assert selectors.inbox_counts(approvers["lead"]) == {"open": 1, "overdue": 0}
    assert selectors.instances_for(owner).filter(pk=instance.pk).exists()
    assert selectors.instances_for(approvers["lead"]).filter(pk=instance.pk).exists()
    assert not selectors.instances_for(outsider).filter(pk=instance.pk).exists()
    assert not selectors.instances_for(UserFactory(username="nobody")).exists()
    assert [a.kind for a in selectors.trail(instance)] == ["start"]


def test_notifications_in_app(start, approvers, owner):
    from django.apps import apps

    if not apps.is_installed("credo.notify"):
        pytest.skip("notify app not installed")
    from credo.notify.models import Message

    instance = start()
    task = task_of(instance, approvers["lead"])
    msg = Message.objects.get(user=approvers["lead"], template_code="approvals.task_assigned")
    assert "测试申请" in msg.subject
    services.approval_act(task=task, actor=approvers["lead"], action="return", comment="补充流水")
    back = Message.objects.get(user=owner, template_code="approvals.returned")
    assert "补充流水" in back.body


def test_customer_timeline_for_customer_subject(start, approvers, owner, individual_data_factory):
    from credo.customers import services as customer_services
    from credo.customers.models import CustomerEvent

    customer = customer_services.customer_create(
        actor=owner, data=individual_data_factory(7), owner=owner
    )
    instance = start(subj=customer)
    services.approval_act(
        task=task_of(instance, approvers["lead"]), actor=approvers["lead"], action="approve"
    )
    services.approval_act(
        task=task_of(instance, approvers["risk"]),
        actor=approvers["risk"],
        action="reject",
        comment="负债过高",
    )
    titles = list(
        CustomerEvent.objects.filter(customer=customer, source="approvals")
        .order_by("id")
        .values_list("title", flat=True)
    )
    assert titles == [
        "发起审批（标准审批）：测试申请",
        "分支机构负责人审批：赵主管 批准",
        "风控经理审批：孙风控 拒绝",
    ]
