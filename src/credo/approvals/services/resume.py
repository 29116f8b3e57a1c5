"""After 退回补充: the applicant answers and the step restarts; or the instance is withdrawn."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.approvals.errors import ApprovalError, InvalidState, NotAllowed
from credo.approvals.models import ApprovalAction, ApprovalInstance, ApprovalTask
from credo.approvals.services.listeners import _notify
from credo.approvals.services.steps import _activate_step, _close_task, _log, _refused
from credo.approvals.states import INSTANCE_MACHINE
from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.core.todo.services import todo_cancel_by_key


def approval_resume(*, instance: ApprovalInstance, actor: Any, answer: str) -> ApprovalInstance:
    """After 退回补充: the applicant answers and the same step restarts."""
    try:
        with transaction.atomic():
            now = timezone.now()
            locked = (
                ApprovalInstance.objects.select_for_update(of=("self",))
                .select_related("flow_version__flow")
                .get(pk=instance.pk)
            )
            if locked.status != ApprovalInstance.Status.RETURNED:
                raise InvalidState(_("该审批不在“退回补充”状态。"))
            allowed = {locked.applicant_id, locked.owner_id, locked.started_by_id} - {None}
            if actor is None or actor.pk not in allowed:
                raise NotAllowed(_("只有申请人可以补充说明后重新提交。"))
            answer = (answer or "").strip()
            if not answer:
                raise ApprovalError(_("请填写补充说明。"))
            fsm.transition(locked, ApprovalInstance.Status.RUNNING, save=False)
            locked.round += 1
            question, locked.question = locked.question, ""
            locked.save()
            _log(
                locked,
                ApprovalAction.Kind.RESUME,
                actor=actor,
                comment=answer,
                now=now,
                detail={"question": question},
            )
            audit_record(
                action="approval.resume",
                actor=actor,
                obj=locked,
                metadata={"step": locked.current_step, "round": locked.round},
            )
            if locked.owner is not None:
                todo_cancel_by_key(
                    user=locked.owner, dedupe_key=f"approval-return:{locked.pk}", actor=actor
                )
            _activate_step(locked, locked.current_step, now=now)
            # the subject's app moves back to "in approval" (outcome "resumed")
            _notify(locked, "resumed")
            return locked
    except ApprovalError as exc:
        _refused(actor, None, instance.pk, "resume", exc)
        raise


@transaction.atomic
def approval_cancel(
    *, instance: ApprovalInstance, actor: Any, reason: str = ""
) -> ApprovalInstance:
    """Withdraw a running or returned instance (e.g. the application was withdrawn)."""
    instance = ApprovalInstance.objects.select_for_update().get(pk=instance.pk)
    if not INSTANCE_MACHINE.can(instance.status, ApprovalInstance.Status.CANCELLED):
        raise InvalidState(_("该审批已结束，不能撤销。"))
    now = timezone.now()
    for task in instance.tasks.filter(status=ApprovalTask.Status.OPEN).select_related("assignee"):
        _close_task(task, ApprovalTask.Status.SKIPPED, now=now)
    if instance.owner is not None:
        todo_cancel_by_key(user=instance.owner, dedupe_key=f"approval-return:{instance.pk}")
    fsm.transition(instance, ApprovalInstance.Status.CANCELLED, save=False)
    instance.decided_at = now
    instance.save()
    _log(
        instance,
        ApprovalAction.Kind.FINISH,
        actor=actor,
        comment=reason,
        now=now,
        detail={"status": "cancelled"},
    )
    audit_record(
        action="approval.cancelled", actor=actor, obj=instance, metadata={"reason": reason}
    )
    return instance
