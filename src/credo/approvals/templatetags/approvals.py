"""Tags for the shared approval partials (``approvals/_trail.html``, ``approvals/_actions.html``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth import get_user_model

from credo.approvals import selectors
from credo.approvals.models import ApprovalInstance, ApprovalTask

register = template.Library()


@register.simple_tag
def approval_steps(instance: ApprovalInstance | None) -> list[dict[str, Any]]:
    return selectors.step_rows(instance) if instance is not None else []


@register.simple_tag
def approval_trail(instance: ApprovalInstance | None) -> list[Any]:
    return selectors.trail(instance) if instance is not None else []


@register.simple_tag
def approval_open_task(instance: ApprovalInstance | None, user: Any) -> ApprovalTask | None:
    return selectors.open_task_of(instance, user)


@register.simple_tag
def approval_conflict_notice(instance: ApprovalInstance | None, user: Any) -> str:
    """Why the user may not act on the instance's current task (segregation of duties)."""
    return selectors.conflict_notice(instance, user)


@register.simple_tag
def approval_can_resume(instance: ApprovalInstance | None, user: Any) -> bool:
    if instance is None or instance.status != ApprovalInstance.Status.RETURNED:
        return False
    allowed = {instance.applicant_id, instance.owner_id, instance.started_by_id} - {None}
    return getattr(user, "pk", None) in allowed


@register.simple_tag
def transfer_candidates(task: ApprovalTask | None, user: Any) -> list[Any]:
    """Users the task may be transferred to: holders of the task's role (else approvers)."""
    if task is None:
        return []
    qs = get_user_model().objects.filter(is_active=True).exclude(pk=user.pk)
    qs = qs.exclude(pk=task.assignee_id)
    # whoever must stay away from the instance cannot receive it either
    conflicts = selectors.instance_reads(task.instance).conflicts(step=task.step, slot=task.slot)
    qs = qs.exclude(pk__in=list(conflicts))
    if task.role:
        qs = qs.filter(roles__code=task.role)
    else:
        qs = qs.filter(roles__permissions__codename="view_approvalinstance")
    # the picker shows each person as ``str(user)`` (display name, else username)
    qs = qs.only("id", "username", "display_name")
    return list(qs.distinct().order_by("username")[:200])


@register.filter
def approver_label(approver: Any) -> str:
    return selectors.approver_label(approver)
