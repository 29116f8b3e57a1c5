"""What the approval services share: approver resolution, tasks, steps, the action log and
the end of an instance."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.models import OrgUnit
from credo.approvals.designer import condition_data, condition_holds
from credo.approvals.errors import ApprovalError, ConflictOfInterest
from credo.approvals.models import ApprovalAction, ApprovalInstance, ApprovalTask
from credo.approvals.selectors import (
    approval_conflicts,
    approver_label,
    forget_instance_reads,
)
from credo.approvals.services.listeners import _jsonable, _notify, _send
from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.core.todo.models import Todo
from credo.core.todo.services import todo_cancel_by_key, todo_complete, todo_create


def _in_branch(users: list[Any], branch: OrgUnit | None) -> list[Any]:
    if branch is None:
        return []
    return [u for u in users if u.org_unit is not None and u.org_unit.branch == branch]


def _resolve(
    approver: dict[str, Any],
    instance: ApprovalInstance,
    *,
    branch_scoped: bool = False,
    exclude: set[int] | None = None,
) -> list[Any]:
    """Active users for an approver entry, the applicant (and ``exclude``) left out."""
    exclude = set(exclude or set())
    if instance.applicant_id:
        exclude.add(instance.applicant_id)
    qs = get_user_model().objects.filter(is_active=True).exclude(pk__in=exclude)
    if "manager" in approver:
        return _managers(str(approver["manager"]), instance, qs)
    if "role" in approver:
        qs = qs.filter(roles__code=approver["role"])
    elif "user" in approver:
        qs = qs.filter(username=approver["user"])
    else:
        return []
    users = list(qs.select_related("org_unit__parent__parent").distinct().order_by("id"))
    if branch_scoped:
        preferred = _in_branch(users, instance.branch)
        if preferred:
            return preferred
    return users


def _managers(role: str, instance: ApprovalInstance, qs: Any) -> list[Any]:
    """The applicant's manager: holders of ``role`` in the applicant's (owner's) team, else in
    their branch (the branch unit itself or any team under it)."""
    owner = instance.owner
    if owner is None or owner.org_unit is None:
        return []
    qs = qs.filter(roles__code=role).select_related("org_unit__parent__parent").distinct()
    team = owner.team
    if team is not None:
        users = list(qs.filter(org_unit=team).order_by("id"))
        if users:
            return users
    branch = owner.branch
    if branch is None:
        return []
    return list(qs.filter(Q(org_unit=branch) | Q(org_unit__parent=branch)).order_by("id"))


def condition_data_of(instance: ApprovalInstance) -> dict[str, Any]:
    return condition_data(
        instance.context or {},
        flow=instance.flow_version.flow.key,
        amount=instance.amount,
        months=instance.months,
    )


def _open_from(instance: ApprovalInstance, index: int, *, actor: Any, now: dt.datetime) -> None:
    """Open the first step from ``index`` whose condition holds; steps whose condition does
    not hold are logged as skipped. When none is left the instance is approved."""
    steps = instance.steps
    data = condition_data_of(instance)
    while index < len(steps):
        applies, note = condition_holds(steps[index].get("condition"), data)
        if applies:
            instance.current_step = index
            instance.save()
            _activate_step(instance, index, now=now)
            return
        _log(
            instance,
            ApprovalAction.Kind.STEP_DONE,
            now=now,
            comment=_("不满足步骤条件，跳过"),
            detail={
                "step": index,
                "name": steps[index].get("name"),
                "skipped": True,
                "condition": steps[index].get("condition"),
            },
        )
        index += 1
    instance.current_step = max(len(steps) - 1, 0)
    _finish(instance, ApprovalInstance.Status.APPROVED, actor=actor, now=now)


def _log(
    instance: ApprovalInstance,
    kind: str,
    *,
    actor: Any = None,
    task: ApprovalTask | None = None,
    comment: str = "",
    amount: int | None = None,
    months: int | None = None,
    detail: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> ApprovalAction:
    forget_instance_reads()  # every change of an instance is logged: the pages read afresh
    return ApprovalAction.objects.create(
        instance=instance,
        task=task,
        step=task.step if task is not None else instance.current_step,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        comment=comment,
        amount=amount,
        months=months,
        detail=_jsonable(detail or {}),
        created_at=now or timezone.now(),
    )


def _task_url(task: ApprovalTask) -> str:
    return reverse("approvals:task_detail", args=[task.pk])


def _create_task(
    instance: ApprovalInstance,
    *,
    step_index: int,
    slot: int,
    user: Any,
    role: str,
    now: dt.datetime,
    previous: ApprovalTask | None = None,
) -> ApprovalTask:
    step = instance.steps[step_index]
    hours = step.get("deadline_hours")
    due = now + dt.timedelta(hours=hours) if hours else None
    forget_instance_reads()
    task = ApprovalTask.objects.create(
        instance=instance,
        step=step_index,
        round=instance.round,
        slot=slot,
        step_name=str(step.get("name") or "")[:120],
        mode=step.get("mode") or "any",
        role=role,
        assignee=user,
        due_at=due,
        created_at=now,
        previous=previous,
    )
    todo_create(
        user=user,
        title=_("审批：%(t)s") % {"t": instance.title},
        description=_("%(s)s（%(r)s）") % {"s": task.step_name, "r": instance.route_name},
        due_date=timezone.localdate(due) if due else None,
        url=_task_url(task),
        source="approvals",
        priority=Todo.Priority.HIGH,
        dedupe_key=f"approval-task:{task.pk}",
    )
    _send(
        "approvals.task_assigned",
        user=user,
        context={"title": instance.title, "step": task.step_name, "route": instance.route_name},
        url=_task_url(task),
        key=f"approval-task:{task.pk}",
    )
    return task


def _close_task(
    task: ApprovalTask,
    status: str,
    *,
    actor: Any = None,
    comment: str = "",
    amount: int | None = None,
    months: int | None = None,
    now: dt.datetime | None = None,
) -> None:
    forget_instance_reads()
    task.decided_at = now or timezone.now()
    task.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    task.comment = comment
    task.amount = amount
    task.months = months
    fsm.transition(
        task,
        status,
        update_fields=("decided_at", "decided_by", "comment", "amount", "months"),
    )
    key = f"approval-task:{task.pk}"
    todo = Todo.objects.filter(user=task.assignee, dedupe_key=key, status=Todo.Status.OPEN).first()
    if todo is None:
        return
    if actor is not None and actor.pk == task.assignee_id and status != task.Status.TRANSFERRED:
        todo_complete(todo=todo, actor=actor)
    else:
        todo_cancel_by_key(user=task.assignee, dedupe_key=key, actor=actor)


def _activate_step(instance: ApprovalInstance, index: int, *, now: dt.datetime) -> None:
    step = instance.steps[index]
    strict = not instance.flow_version.allows_same_approver
    conflicts = approval_conflicts(instance, step=index)
    assigned: set[int] = set()
    for slot, approver in enumerate(step.get("approvers") or []):
        scoped = bool(step.get("branch_scoped"))
        users = _resolve(approver, instance, branch_scoped=scoped, exclude=set(conflicts))
        if not users and not _resolve(approver, instance, branch_scoped=scoped):
            raise ApprovalError(
                _("步骤“%(s)s”找不到可指派的审批人（%(a)s），请联系管理员配置。")
                % {"s": step.get("name"), "a": approver_label(approver)},
                code="no_approver",
            )
        # a person holding several roles of a 会签 step fills one slot; only a flow that allows
        # the same approver twice lets them fill another slot nobody else can
        fresh = [u for u in users if u.pk not in assigned]
        if not fresh and not strict:
            fresh = users
        role = str(approver.get("role") or "")
        if not fresh:
            # everyone who could fill the slot must stay away: the step's escalation target
            # takes it (never the excluded people), else the step cannot open
            fresh, role = _conflict_fallback(
                instance, index, step, slot, exclude=set(conflicts) | assigned, now=now
            )
        for user in fresh:
            _create_task(instance, step_index=index, slot=slot, user=user, role=role, now=now)
            assigned.add(user.pk)


def _conflict_fallback(
    instance: ApprovalInstance,
    index: int,
    step: dict[str, Any],
    slot: int,
    *,
    exclude: set[int],
    now: dt.datetime,
) -> tuple[list[Any], str]:
    target = step.get("escalate_to")
    if not isinstance(target, dict):
        target = {}
    users = _resolve(target, instance, exclude=exclude) if target else []
    if not users:
        raise ApprovalError(
            _(
                "步骤“%(s)s”的审批人都需回避（申请人、创建人、提交人或已审批过本申请的人），"
                "也没有可升级的审批人，请联系管理员调整审批人配置。"
            )
            % {"s": step.get("name")},
            code="no_approver",
        )
    _log(
        instance,
        ApprovalAction.Kind.ESCALATE,
        now=now,
        detail={
            "reason": "conflict_of_interest",
            "step": index,
            "slot": slot,
            "to": [u.pk for u in users],
            "to_names": [str(u) for u in users],
        },
    )
    audit_record(
        action="approval.escalate",
        obj=instance,
        metadata={"reason": "conflict_of_interest", "step": index, "slot": slot},
    )
    return users, str(target.get("role") or "")


def _skip_open(
    instance: ApprovalInstance, step: int, *, slot: int | None = None, now: dt.datetime
) -> None:
    qs = instance.tasks.filter(step=step, round=instance.round, status=ApprovalTask.Status.OPEN)
    if slot is not None:
        qs = qs.filter(slot=slot)
    for task in qs.select_related("assignee"):
        _close_task(task, ApprovalTask.Status.SKIPPED, now=now)


def _finish(
    instance: ApprovalInstance, status: str, *, actor: Any, now: dt.datetime, comment: str = ""
) -> None:
    fsm.transition(instance, status, save=False)
    instance.decided_at = now
    instance.save()
    _log(
        instance,
        ApprovalAction.Kind.FINISH,
        actor=actor,
        comment=comment,
        now=now,
        detail={
            "status": status,
            "amount": instance.decided_amount,
            "months": instance.decided_months,
        },
    )
    audit_record(
        action=f"approval.{status}",
        actor=actor,
        obj=instance,
        metadata={
            "decided_amount": instance.decided_amount,
            "decided_months": instance.decided_months,
        },
    )
    # no timeline event here: each decisive step action has its own, and the subject's app
    # records its own outcome (e.g. the application's 审批通过) from the listener
    _notify(instance, status)


def _refused(
    actor: Any, task: ApprovalTask | None, instance_id: Any, action: str, exc: ApprovalError
) -> None:
    with transaction.atomic():
        audit_record(
            action="approval.refused",
            actor=actor,
            object_type="approvals.approvalinstance",
            object_id=instance_id or "",
            metadata={
                "task": getattr(task, "pk", None),
                "action": action,
                "code": exc.code,
                "message": exc.message,
                **({"reason": exc.reason} if isinstance(exc, ConflictOfInterest) else {}),
            },
        )
