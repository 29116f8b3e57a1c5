"""Reads of approval instances and tasks. Users see instances in their data scope (the
applicant's manager/team/branch) plus every instance they have a task on or started."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.accounts.scope import scope_q
from credo.approvals.models import (
    SAME_APPROVER_FLAG,
    ApprovalAction,
    ApprovalFlow,
    ApprovalInstance,
    ApprovalTask,
    FlowVersion,
)
from credo.core.audit.services import audit_record
from credo.core.context import forget, memoized

# --- segregation of duties -----------------------------------------------------------------------
# Who may not act on a task of an instance, and why (reason codes, strongest first). The same
# rule is applied when routing, in the inbox, on the task page, on transfer and in the act
# service; ``approval_conflicts`` is the definition and ``_conflicted_task_q`` its SQL form for
# the inbox (tests check that they agree).
CONFLICT_REASONS: dict[str, Any] = {
    "owner": gettext_lazy("申请人"),
    "creator": gettext_lazy("创建人"),
    "submitter": gettext_lazy("提交人"),
    "earlier_step": gettext_lazy("前序步骤审批人"),
    "same_step": gettext_lazy("本步骤其他会签席位的审批人"),
}
# Decisions that make someone an approver of a step (a transfer or an escalation does not).
DECIDING = (
    ApprovalTask.Status.APPROVED,
    ApprovalTask.Status.RETURNED,
    ApprovalTask.Status.REJECTED,
)


def subject_of(instance: ApprovalInstance) -> Any:
    """The subject row (any model: ``subject_type`` + ``subject_id``), or None."""
    from django.apps import apps

    try:
        model = apps.get_model(instance.subject_type)
        return model._default_manager.filter(pk=instance.subject_id).first()
    except (LookupError, ValueError, TypeError):
        return None


def _creator_id(instance: ApprovalInstance) -> int | None:
    if instance.subject_creator_id is not None:
        return int(instance.subject_creator_id)
    # instances started before the creator was copied: ask the subject itself
    subject = subject_of(instance)
    value = getattr(subject, "created_by_id", None) if subject is not None else None
    return int(value) if isinstance(value, int) else None


# (decided_by_id, step, round, slot, status) of a task that decided its step
Decided = tuple[Any, int, int, int, str]


def approval_conflicts(
    instance: ApprovalInstance, *, step: int, slot: int | None = None
) -> dict[int, str]:
    """``{user id: reason}`` for everyone who may not act on a task of ``step`` (and ``slot``)
    of the instance: its owner (the applicant), the subject's creator, the submitter, and —
    unless the flow version sets ``allow_same_approver_across_steps`` — whoever decided an
    earlier step of the instance (any round), or approved another 会签 slot of this step in
    the current round."""
    return _conflicts(instance, step=step, slot=slot, creator_id=_creator_id(instance))


def _conflicts(
    instance: ApprovalInstance,
    *,
    step: int,
    slot: int | None,
    creator_id: int | None,
    decided: list[Decided] | None = None,
) -> dict[int, str]:
    """``approval_conflicts`` with the creator known and, when given, the decided tasks
    (``decided``, by id) instead of their query."""
    out: dict[int, str] = {}

    def add(pk: Any, reason: str) -> None:
        if pk is not None:
            out.setdefault(int(pk), reason)

    add(instance.owner_id, "owner")
    add(instance.applicant_id, "owner")
    add(creator_id, "creator")
    add(instance.started_by_id, "submitter")
    if instance.flow_version.allows_same_approver:
        return out
    if decided is None:
        decided = list(
            instance.tasks.filter(status__in=DECIDING, decided_by__isnull=False)
            .values_list("decided_by_id", "step", "round", "slot", "status")
            .order_by("id")
        )
    for pk, task_step, task_round, task_slot, status in decided:
        if task_step < step:
            add(pk, "earlier_step")
        elif (
            task_step == step
            and task_round == instance.round
            and status == ApprovalTask.Status.APPROVED
            and (slot is None or task_slot != slot)
        ):
            add(pk, "same_step")
    return out


def conflict_message(reason: str, *, target: bool = False) -> str:
    who = CONFLICT_REASONS.get(reason, reason)
    if target:
        return _("转交对象是本申请的%(w)s，需回避，不能转交给他/她。") % {"w": who}
    message = _("您是本申请的%(w)s，不能审批。") % {"w": who}
    if reason in ("earlier_step", "same_step"):
        message += _("本审批流要求每一次审批由不同的人完成。")
    return message


def _conflicted_task_q(user: Any) -> Q:
    """SQL form of ``approval_conflicts``: the tasks ``user`` may not act on."""
    pk = user.pk
    relaxed = FlowVersion.objects.filter(**{f"definition__{SAME_APPROVER_FLAG}": True})
    earlier = ApprovalTask.objects.filter(
        instance_id=OuterRef("instance_id"),
        decided_by_id=pk,
        status__in=DECIDING,
        step__lt=OuterRef("step"),
    )
    same = ApprovalTask.objects.filter(
        instance_id=OuterRef("instance_id"),
        decided_by_id=pk,
        status=ApprovalTask.Status.APPROVED,
        step=OuterRef("step"),
        round=OuterRef("round"),
    ).exclude(slot=OuterRef("slot"))
    return (
        Q(instance__owner_id=pk)
        | Q(instance__subject_creator_id=pk)
        | Q(instance__started_by_id=pk)
        | ((Exists(earlier) | Exists(same)) & ~Q(instance__flow_version__in=relaxed.values("pk")))
    )


def instance_for(subject: Any) -> ApprovalInstance | None:
    """The latest approval instance of ``subject`` (any model instance), or None."""
    if subject is None or subject.pk is None:
        return None
    return (
        ApprovalInstance.objects.filter(
            subject_type=subject._meta.label_lower, subject_id=str(subject.pk)
        )
        .select_related("flow_version__flow", "route_evaluation__version__model", "owner")
        .order_by("-id")
        .first()
    )


def open_tasks_for(user: Any) -> QuerySet[ApprovalTask]:
    if user is None or not getattr(user, "is_authenticated", False):
        return ApprovalTask.objects.none()
    # a task the user must stay away from (segregation of duties) is not theirs to act on
    return (
        ApprovalTask.objects.filter(
            assignee=user,
            status=ApprovalTask.Status.OPEN,
            instance__status=ApprovalInstance.Status.RUNNING,
        )
        .exclude(_conflicted_task_q(user))
        .select_related("instance__flow_version__flow", "instance__owner")
        .order_by("due_at", "id")
    )


def inbox_counts(user: Any) -> dict[str, int]:
    now = timezone.now()
    agg = open_tasks_for(user).aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now))
    )
    return {"open": agg["open"] or 0, "overdue": agg["overdue"] or 0}


def done_tasks_for(user: Any, limit: int = 20) -> list[ApprovalTask]:
    return list(
        ApprovalTask.objects.filter(decided_by=user)
        .exclude(status=ApprovalTask.Status.OPEN)
        .select_related("instance")
        .order_by("-decided_at")[:limit]
    )


def trail(instance: ApprovalInstance) -> list[ApprovalAction]:
    """The instance's actions, by id, with the actor."""
    return list(instance_reads(instance).actions)


def _visible_q(user: Any) -> Q | None:
    """The instances ``user`` may open, as a filter on ``ApprovalInstance``: ``Q()`` for all,
    None for none — the data scope plus every instance they have a task on or started."""
    q = scope_q(user)
    if not q:  # None (nothing) or Q() (everything)
        return q
    participant = Q(tasks__assignee=user) | Q(started_by=user)
    codes = list(getattr(user, "role_codes", ()) or ())
    if codes:  # an open role task may be taken by any holder of the role
        participant |= Q(tasks__status=ApprovalTask.Status.OPEN, tasks__role__in=codes)
    return q | participant


def instances_for(user: Any) -> QuerySet[ApprovalInstance]:
    q = _visible_q(user)
    if q is None:
        return ApprovalInstance.objects.none()
    qs = ApprovalInstance.objects.all()
    if q:  # not "everything": the scope and the instances the user takes part in
        ids = ApprovalInstance.objects.filter(q).values("pk")
        qs = qs.filter(pk__in=ids)
    return qs.select_related("flow_version__flow", "owner").order_by("-id")


def _denied(user: Any, instance: ApprovalInstance) -> Http404:
    with transaction.atomic():
        audit_record(action="approval.access_denied", actor=user, obj=instance)
    return Http404()


def instance_get(user: Any, pk: Any) -> ApprovalInstance:
    """The instance if the user may open it (see ``instances_for``), the check folded into the
    row's own query; otherwise 404 (the attempt is audited)."""
    q = _visible_q(user)
    qs = ApprovalInstance.objects.select_related(
        "flow_version__flow", "owner", "route_evaluation__version__model"
    )
    if q:  # not "everything" (nor nothing)
        visible = ApprovalInstance.objects.filter(q, pk=OuterRef("pk"))
        qs = qs.annotate(_credo_visible=Exists(visible))
    try:
        instance = qs.get(pk=int(pk))
    except (ApprovalInstance.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if q is None or (q and not getattr(instance, "_credo_visible", False)):
        raise _denied(user, instance)
    return instance


def task_get(user: Any, pk: Any) -> ApprovalTask:
    """The task (with its instance, the flow version and the routing evaluation's model) if the
    user may open its instance (see ``instances_for``); otherwise 404 (the attempt is audited).
    One query when the task itself makes the user a participant of the instance."""
    try:
        task = ApprovalTask.objects.select_related(
            "instance__flow_version__flow", "instance__route_evaluation__version__model"
        ).get(pk=int(pk))
    except (ApprovalTask.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not _may_open(user, task.instance, task):
        raise _denied(user, task.instance)
    return task


def _may_open(user: Any, instance: ApprovalInstance, task: ApprovalTask) -> bool:
    """Whether ``instance`` is among ``instances_for(user)``: answered from the rows at hand
    when they show the user takes part (the task is theirs or their role's to take, or they
    started the instance), else asked."""
    q = _visible_q(user)
    if not q:
        return q is not None  # everything / nothing
    if instance.started_by_id == user.pk or task.assignee_id == user.pk:
        return True
    if task.status == ApprovalTask.Status.OPEN and task.role in (
        getattr(user, "role_codes", None) or ()
    ):
        return True
    return ApprovalInstance.objects.filter(q, pk=instance.pk).exists()


# --- one instance as the pages show it (per request) --------------------------------------------
MEMO_PREFIX = "approvals:instance:"


class InstanceReads:
    """The instance's tasks and action trail, each read at most once, and what derives from them
    (the steps, the user's task, segregation of duties). The approval partials ask for it
    several times per page: :func:`instance_reads` keeps one per instance for the request."""

    def __init__(self, instance: ApprovalInstance) -> None:
        self.instance = instance
        self._conflicts: dict[tuple[int, int | None], dict[int, str]] = {}

    @cached_property
    def tasks(self) -> list[ApprovalTask]:
        """Every task of the instance (all rounds), by id, with the assignee."""
        return list(self.instance.tasks.select_related("assignee").order_by("id"))

    @cached_property
    def actions(self) -> list[ApprovalAction]:
        """The trail, by id, with the actor."""
        return list(self.instance.actions.select_related("actor").order_by("id"))

    @cached_property
    def creator_id(self) -> int | None:
        return _creator_id(self.instance)

    @cached_property
    def decided(self) -> list[Decided]:
        return [
            (t.decided_by_id, t.step, t.round, t.slot, t.status)
            for t in self.tasks
            if t.status in DECIDING and t.decided_by_id is not None
        ]

    def conflicts(self, *, step: int, slot: int | None = None) -> dict[int, str]:
        """``approval_conflicts`` of the instance from the tasks already read."""
        key = (step, slot)
        if key not in self._conflicts:
            relaxed = self.instance.flow_version.allows_same_approver  # decided tasks not needed
            self._conflicts[key] = _conflicts(
                self.instance,
                step=step,
                slot=slot,
                creator_id=self.creator_id,
                decided=[] if relaxed else self.decided,
            )
        return self._conflicts[key]


def instance_reads(instance: ApprovalInstance) -> InstanceReads:
    """The instance's :class:`InstanceReads`, one per request (outside a request — tasks,
    tests — always a fresh one). The approval services drop them when they write."""
    return memoized(f"{MEMO_PREFIX}{instance.pk}", lambda: InstanceReads(instance))


def forget_instance_reads() -> None:
    """A write in this request changed an instance: read its tasks and trail afresh."""
    forget(MEMO_PREFIX)


def _candidate_task(instance: ApprovalInstance | None, user: Any) -> ApprovalTask | None:
    """The user's open task on the instance's current step (or an open task of a role they
    hold), before segregation of duties is considered."""
    if instance is None or user is None or not getattr(user, "is_authenticated", False):
        return None
    if instance.status != ApprovalInstance.Status.RUNNING:
        return None
    tasks = [
        t
        for t in instance_reads(instance).tasks
        if t.step == instance.current_step
        and t.round == instance.round
        and t.status == ApprovalTask.Status.OPEN
    ]
    mine = next((t for t in tasks if t.assignee_id == user.pk), None)
    if mine is not None:
        return mine
    codes = user.role_codes
    return next((t for t in tasks if t.role and t.role in codes), None)


def open_task_of(instance: ApprovalInstance | None, user: Any) -> ApprovalTask | None:
    """The task the user may act on now (what _actions.html acts on), or None — also when the
    user must stay away from the instance (see ``conflict_notice``)."""
    task = _candidate_task(instance, user)
    if task is None or instance is None:
        return None
    if user.pk in instance_reads(instance).conflicts(step=task.step, slot=task.slot):
        return None
    return task


def conflict_notice(instance: ApprovalInstance | None, user: Any) -> str:
    """Why the user, who would otherwise have a task to act on, may not act ("" if none)."""
    task = _candidate_task(instance, user)
    if task is None or instance is None:
        return ""
    reason = instance_reads(instance).conflicts(step=task.step, slot=task.slot).get(user.pk)
    return conflict_message(reason) if reason else ""


def step_rows(instance: ApprovalInstance) -> list[dict[str, Any]]:
    """Per step of the pinned route: definition, state and every task (all rounds)."""
    reads = instance_reads(instance)
    by_step: dict[int, list[ApprovalTask]] = {}
    for task in reads.tasks:
        by_step.setdefault(task.step, []).append(task)
    # steps whose condition did not hold (services.steps._open_from)
    skipped = {
        a.detail.get("step")
        for a in reads.actions
        if a.kind == ApprovalAction.Kind.STEP_DONE
        and a.task_id is None
        and isinstance(a.detail, dict)
        and a.detail.get("skipped")
    }
    rows = []
    for index, step in enumerate(instance.steps):
        step_tasks = by_step.get(index, [])
        if index in skipped and not step_tasks:
            state = "skipped"
        elif instance.status == ApprovalInstance.Status.APPROVED or index < instance.current_step:
            state = "done"
        elif index == instance.current_step and instance.status in (
            ApprovalInstance.Status.RUNNING,
            ApprovalInstance.Status.RETURNED,
        ):
            state = "current"
        elif index == instance.current_step:
            state = "stopped"
        else:
            state = "pending"
        rows.append(
            {
                "index": index,
                "number": index + 1,
                "name": step.get("name"),
                "mode": step.get("mode"),
                "max_amount": step.get("max_amount"),
                "deadline_hours": step.get("deadline_hours"),
                "approvers": step.get("approvers") or [],
                "state": state,
                "tasks": step_tasks,
            }
        )
    return rows


def flows() -> QuerySet[ApprovalFlow]:
    return ApprovalFlow.objects.prefetch_related("versions").order_by("key")


def approver_label(approver: Any) -> str:
    """A step approver for people: the role's name, "申请人的上级（role）" or the person."""
    if not isinstance(approver, dict):
        return str(approver)
    if "role" in approver:
        names = _role_names()
        return str(names.get(approver["role"], approver["role"]))
    if "manager" in approver:
        role = _role_names().get(approver["manager"], approver["manager"])
        return str(_("申请人的上级（%(r)s）") % {"r": role})
    user = get_user_model().objects.filter(username=approver.get("user")).first()
    return str(user) if user else str(approver.get("user"))


def _role_names() -> dict[str, str]:
    """Role code → name, read once per request (the trail labels every step's approvers)."""
    from credo.accounts.models import Role
    from credo.core.context import request_memo

    memo = request_memo()
    names = memo.get("approvals:role_names") if memo is not None else None
    if names is None:
        names = dict(Role.objects.values_list("code", "name"))
        if memo is not None:
            memo["approvals:role_names"] = names
    return names
