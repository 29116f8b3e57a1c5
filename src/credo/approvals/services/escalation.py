"""Overdue approval tasks go to the step's escalation target."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from credo.approvals.models import ApprovalAction, ApprovalInstance, ApprovalTask
from credo.approvals.selectors import approval_conflicts
from credo.approvals.services.steps import _close_task, _create_task, _log, _resolve
from credo.core.audit.services import audit_record


def approvals_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Open tasks past ``due_at`` go to the step's ``escalate_to`` (one level: a task that was
    itself created by escalation is not escalated again). Returns the number escalated."""
    now = now or timezone.now()
    candidates = list(
        ApprovalTask.objects.filter(
            status=ApprovalTask.Status.OPEN,
            due_at__lt=now,
            instance__status=ApprovalInstance.Status.RUNNING,
        )
        .order_by("id")
        .values_list("pk", "instance_id")[:1000]
    )
    count = 0
    for task_id, instance_id in candidates:
        with transaction.atomic():
            instance = (
                ApprovalInstance.objects.select_for_update(of=("self",))
                .select_related("flow_version__flow")
                .get(pk=instance_id)
            )
            task = ApprovalTask.objects.select_for_update().get(pk=task_id)
            if task.status != ApprovalTask.Status.OPEN or task.due_at is None or task.due_at >= now:
                continue
            if instance.status != ApprovalInstance.Status.RUNNING:
                continue
            if task.previous is not None and task.previous.status == ApprovalTask.Status.ESCALATED:
                continue
            step = instance.steps[task.step]
            target = step.get("escalate_to")
            if not isinstance(target, dict):
                continue
            busy = set(
                instance.tasks.filter(
                    step=task.step, round=instance.round, status=ApprovalTask.Status.OPEN
                ).values_list("assignee_id", flat=True)
            )
            conflicts = approval_conflicts(instance, step=task.step, slot=task.slot)
            users = _resolve(target, instance, exclude=busy | {task.assignee_id} | set(conflicts))
            if not users:
                continue
            _close_task(task, ApprovalTask.Status.ESCALATED, now=now)
            new_ids = []
            for user in users:
                new = _create_task(
                    instance,
                    step_index=task.step,
                    slot=task.slot,
                    user=user,
                    role=str(target.get("role") or ""),
                    now=now,
                    previous=task,
                )
                new_ids.append(new.pk)
            _log(
                instance,
                ApprovalAction.Kind.ESCALATE,
                task=task,
                now=now,
                detail={
                    "from": task.assignee_id,
                    "to": [u.pk for u in users],
                    "to_names": [str(u) for u in users],
                    "new_tasks": new_ids,
                },
            )
            audit_record(
                action="approval.escalate",
                obj=instance,
                metadata={"task": task.pk, "new_tasks": new_ids},
            )
            count += 1
    return count
