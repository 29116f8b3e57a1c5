"""Act on an approval task: approve, reject, return for more information, transfer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.models import Role
from credo.approvals.errors import ApprovalError, ConflictOfInterest, InvalidState, NotAllowed
from credo.approvals.models import ApprovalAction, ApprovalInstance, ApprovalTask
from credo.approvals.selectors import approval_conflicts, conflict_message
from credo.approvals.services.listeners import _notify, _send, _timeline
from credo.approvals.services.steps import (
    _close_task,
    _create_task,
    _finish,
    _log,
    _open_from,
    _refused,
    _skip_open,
)
from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.core.money import format_fen
from credo.core.todo.models import Todo
from credo.core.todo.services import todo_create

ACTIONS = ("approve", "reject", "return", "transfer")


def _may_act(task: ApprovalTask, user: Any) -> bool:
    if task.assignee_id == user.pk:
        return True
    return bool(task.role) and user.roles.filter(code=task.role).exists()


def approval_act(
    *,
    task: ApprovalTask,
    actor: Any,
    action: str,
    comment: str = "",
    amount: int | None = None,
    months: int | None = None,
    transfer_to: Any = None,
) -> ApprovalInstance:
    try:
        with transaction.atomic():
            return _act(
                task_id=task.pk,
                actor=actor,
                action=action,
                comment=(comment or "").strip(),
                amount=amount,
                months=months,
                transfer_to=transfer_to,
            )
    except ApprovalError as exc:
        _refused(actor, task, task.instance_id, action, exc)
        raise


def _act(
    *,
    task_id: int,
    actor: Any,
    action: str,
    comment: str,
    amount: int | None,
    months: int | None,
    transfer_to: Any,
) -> ApprovalInstance:
    now = timezone.now()
    instance_id = ApprovalTask.objects.values_list("instance_id", flat=True).get(pk=task_id)
    # lock order: instance, then task (every writer follows it)
    instance = (
        ApprovalInstance.objects.select_for_update(of=("self",))  # not the flow or its version
        .select_related("flow_version__flow")
        .get(pk=instance_id)
    )
    task = (
        ApprovalTask.objects.select_for_update(of=("self",))  # not the assignee's user row
        .select_related("assignee")
        .get(pk=task_id)
    )
    if action not in ACTIONS:
        raise ApprovalError(_("未知的审批动作：%(a)s") % {"a": action})
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAllowed(_("请先登录。"))
    # segregation of duties, for every action and every channel (page, API, ...)
    reason = approval_conflicts(instance, step=task.step, slot=task.slot).get(actor.pk)
    if reason:
        raise ConflictOfInterest(conflict_message(reason), reason=reason)
    if not _may_act(task, actor):
        raise NotAllowed(_("您不是该审批任务的审批人。"))
    if instance.status != ApprovalInstance.Status.RUNNING:
        raise InvalidState(
            _("该审批当前状态为“%(s)s”，不能处理。") % {"s": instance.get_status_display()}
        )
    if task.status != ApprovalTask.Status.OPEN:
        raise InvalidState(_("该审批任务已处理（%(s)s）。") % {"s": task.get_status_display()})
    if task.step != instance.current_step or task.round != instance.round:
        raise InvalidState(_("该审批任务已失效。"))
    if (amount is not None or months is not None) and action != "approve":
        raise ApprovalError(_("只有批准时可以调整金额或期限。"))
    step = instance.steps[task.step]
    if action == "approve":
        _approve(
            instance,
            task,
            step,
            actor=actor,
            comment=comment,
            amount=amount,
            months=months,
            now=now,
        )
    elif action == "reject":
        if not comment:
            raise ApprovalError(_("请填写拒绝原因。"))
        _close_task(task, ApprovalTask.Status.REJECTED, actor=actor, comment=comment, now=now)
        _log(instance, ApprovalAction.Kind.REJECT, actor=actor, task=task, comment=comment, now=now)
        _skip_open(instance, task.step, now=now)
        _timeline(
            instance,
            _("%(s)s：%(u)s 拒绝") % {"s": task.step_name, "u": actor},
            actor,
            {"task": task.pk, "comment": comment},
        )
        _finish(instance, ApprovalInstance.Status.REJECTED, actor=actor, now=now, comment=comment)
    elif action == "return":
        _return(instance, task, actor=actor, comment=comment, now=now)
    else:
        _transfer(instance, task, step, actor=actor, comment=comment, target=transfer_to, now=now)
    return instance


def _approve(
    instance: ApprovalInstance,
    task: ApprovalTask,
    step: dict[str, Any],
    *,
    actor: Any,
    comment: str,
    amount: int | None,
    months: int | None,
    now: dt.datetime,
) -> None:
    current_amount, current_months = instance.amount, instance.months
    if amount is not None:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ApprovalError(_("批准金额必须大于 0。"))
        if current_amount is not None and amount > current_amount:
            raise ApprovalError(_("批准金额不能高于当前申请金额，只能调低。"), code="raise_refused")
    if months is not None:
        if isinstance(months, bool) or not isinstance(months, int) or months < 1:
            raise ApprovalError(_("批准期限必须是至少 1 个月的整数。"))
        if current_months is not None and months > current_months:
            raise ApprovalError(_("批准期限不能长于当前申请期限，只能缩短。"), code="raise_refused")
    effective = amount if amount is not None else current_amount
    max_amount = step.get("max_amount")
    if max_amount is not None and effective is not None and effective > max_amount:
        raise NotAllowed(
            _("金额 %(a)s 元超出本级审批权限（最高 %(m)s 元），请调低金额或转交上级。")
            % {"a": format_fen(effective), "m": format_fen(max_amount)},
            code="above_authority",
        )
    _close_task(
        task,
        ApprovalTask.Status.APPROVED,
        actor=actor,
        comment=comment,
        amount=amount,
        months=months,
        now=now,
    )
    if amount is not None and amount != current_amount:
        instance.decided_amount = amount
    if months is not None and months != current_months:
        instance.decided_months = months
    _log(
        instance,
        ApprovalAction.Kind.APPROVE,
        actor=actor,
        task=task,
        comment=comment,
        amount=amount,
        months=months,
        now=now,
        detail={"before": {"amount": current_amount, "months": current_months}},
    )
    audit_record(
        action="approval.approve",
        actor=actor,
        obj=instance,
        changes={
            "amount": {"before": current_amount, "after": instance.amount},
            "months": {"before": current_months, "after": instance.months},
        }
        if (amount is not None or months is not None)
        else None,
        metadata={"task": task.pk, "step": task.step},
    )
    _timeline(
        instance,
        _("%(s)s：%(u)s 批准") % {"s": task.step_name, "u": actor},
        actor,
        {"task": task.pk, "comment": comment, "amount": amount, "months": months},
    )
    round_tasks = list(instance.tasks.filter(step=task.step, round=instance.round))
    approved = {t.slot for t in round_tasks if t.status == ApprovalTask.Status.APPROVED}
    slots = set(range(len(step.get("approvers") or []))) or {0}
    done = bool(approved) if step.get("mode") == "any" else slots <= approved
    if not done:
        _skip_open(instance, task.step, slot=task.slot, now=now)
        instance.save()
        return
    _skip_open(instance, task.step, now=now)
    _log(
        instance,
        ApprovalAction.Kind.STEP_DONE,
        task=task,
        now=now,
        detail={"step": task.step, "name": task.step_name},
    )
    _open_from(instance, task.step + 1, actor=actor, now=now)


def _return(
    instance: ApprovalInstance, task: ApprovalTask, *, actor: Any, comment: str, now: dt.datetime
) -> None:
    if not comment:
        raise ApprovalError(_("请填写需要申请人补充说明的问题。"))
    _close_task(task, ApprovalTask.Status.RETURNED, actor=actor, comment=comment, now=now)
    _skip_open(instance, task.step, now=now)
    fsm.transition(instance, ApprovalInstance.Status.RETURNED, save=False)
    instance.question = comment
    instance.save()
    _log(instance, ApprovalAction.Kind.RETURN, actor=actor, task=task, comment=comment, now=now)
    audit_record(
        action="approval.return",
        actor=actor,
        obj=instance,
        metadata={"task": task.pk, "step": task.step},
    )
    _timeline(
        instance,
        _("%(s)s：%(u)s 退回补充") % {"s": task.step_name, "u": actor},
        actor,
        {"task": task.pk, "question": comment},
    )
    owner = instance.owner
    if owner is not None:
        todo_create(
            user=owner,
            title=_("补充资料：%(t)s") % {"t": instance.title},
            description=comment,
            url=instance.url or reverse("approvals:instance_detail", args=[instance.pk]),
            source="approvals",
            priority=Todo.Priority.HIGH,
            dedupe_key=f"approval-return:{instance.pk}",
        )
        _send(
            "approvals.returned",
            user=owner,
            context={"title": instance.title, "question": comment, "step": task.step_name},
            url=instance.url or reverse("approvals:instance_detail", args=[instance.pk]),
            key=f"approval-return:{instance.pk}:{task.pk}",
        )
    _notify(instance, "returned")


def _transfer(
    instance: ApprovalInstance,
    task: ApprovalTask,
    step: dict[str, Any],
    *,
    actor: Any,
    comment: str,
    target: Any,
    now: dt.datetime,
) -> None:
    user_model = get_user_model()
    if target is not None and not isinstance(target, user_model):
        target = (
            user_model.objects.filter(pk=target).first()
            if str(target).isdigit()
            else (user_model.objects.filter(username=str(target)).first())
        )
    if target is None or not target.is_active:
        raise ApprovalError(_("请选择有效的转交对象。"))
    if target.pk in (actor.pk, task.assignee_id):
        raise ApprovalError(_("不能转交给自己。"))
    reason = approval_conflicts(instance, step=task.step, slot=task.slot).get(target.pk)
    if reason:
        raise ConflictOfInterest(conflict_message(reason, target=True), reason=reason)
    if task.role:
        if not target.roles.filter(code=task.role).exists():
            role = Role.objects.filter(code=task.role).first()
            raise NotAllowed(
                _("转交对象必须具有该步骤的角色“%(r)s”。") % {"r": role.name if role else task.role}
            )
    elif not target.has_perm("approvals.view_approvalinstance"):
        raise NotAllowed(_("转交对象没有审批权限。"))
    if instance.tasks.filter(
        step=task.step, round=instance.round, assignee=target, status=ApprovalTask.Status.OPEN
    ).exists():
        raise ApprovalError(_("转交对象在该步骤已有待处理的审批任务。"))
    _close_task(task, ApprovalTask.Status.TRANSFERRED, actor=actor, comment=comment, now=now)
    new = _create_task(
        instance,
        step_index=task.step,
        slot=task.slot,
        user=target,
        role=task.role,
        now=now,
        previous=task,
    )
    _log(
        instance,
        ApprovalAction.Kind.TRANSFER,
        actor=actor,
        task=task,
        comment=comment,
        now=now,
        detail={"to": target.pk, "to_name": str(target), "new_task": new.pk},
    )
    audit_record(
        action="approval.transfer",
        actor=actor,
        obj=instance,
        metadata={"task": task.pk, "new_task": new.pk, "to": target.pk},
    )
    instance.save()
