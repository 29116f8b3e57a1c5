"""Reads of approval instances and tasks. Users see instances in their data scope (the
applicant's manager/team/branch) plus every instance they have a task on or started."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from credo.accounts.scope import scope_q
from credo.approvals.models import ApprovalAction, ApprovalFlow, ApprovalInstance, ApprovalTask
from credo.core.audit.services import audit_record


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
    return (
        ApprovalTask.objects.filter(
            assignee=user,
            status=ApprovalTask.Status.OPEN,
            instance__status=ApprovalInstance.Status.RUNNING,
        )
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
    return list(instance.actions.select_related("actor", "task__assignee").order_by("id"))


def instances_for(user: Any) -> QuerySet[ApprovalInstance]:
    q = scope_q(user)
    if q is None:
        return ApprovalInstance.objects.none()
    qs = ApprovalInstance.objects.all()
    if q:  # not "everything": add the instances the user takes part in
        participant = Q(tasks__assignee=user) | Q(started_by=user)
        codes = list(getattr(user, "role_codes", ()) or ())
        if codes:  # an open role task may be taken by any holder of the role
            participant |= Q(tasks__status=ApprovalTask.Status.OPEN, tasks__role__in=codes)
        ids = ApprovalInstance.objects.filter(q | participant).values("pk")
        qs = qs.filter(pk__in=ids)
    return qs.select_related("flow_version__flow", "owner").order_by("-id")


def instance_get(user: Any, pk: Any) -> ApprovalInstance:
    try:
        instance = ApprovalInstance.objects.select_related(
            "flow_version__flow", "owner", "route_evaluation__version__model"
        ).get(pk=int(pk))
    except (ApprovalInstance.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not instances_for(user).filter(pk=instance.pk).exists():
        with transaction.atomic():
            audit_record(action="approval.access_denied", actor=user, obj=instance)
        raise Http404
    return instance


def task_get(user: Any, pk: Any) -> ApprovalTask:
    try:
        task = ApprovalTask.objects.select_related(
            "instance__flow_version__flow",
            "instance__owner",
            "instance__route_evaluation__version__model",
            "assignee",
        ).get(pk=int(pk))
    except (ApprovalTask.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    instance_get(user, task.instance_id)
    return task


def open_task_of(instance: ApprovalInstance | None, user: Any) -> ApprovalTask | None:
    """The user's open task on the instance's current step (what _actions.html acts on)."""
    if instance is None or user is None or not getattr(user, "is_authenticated", False):
        return None
    if instance.status != ApprovalInstance.Status.RUNNING:
        return None
    tasks = instance.tasks.filter(
        step=instance.current_step, round=instance.round, status=ApprovalTask.Status.OPEN
    ).select_related("assignee")
    mine = tasks.filter(assignee=user).first()
    if mine is not None:
        return mine
    codes = user.role_codes
    return next((t for t in tasks if t.role and t.role in codes), None)


def step_rows(instance: ApprovalInstance) -> list[dict[str, Any]]:
    """Per step of the pinned route: definition, state and every task (all rounds)."""
    tasks = list(instance.tasks.select_related("assignee", "decided_by").order_by("id"))
    rows = []
    for index, step in enumerate(instance.steps):
        step_tasks = [t for t in tasks if t.step == index]
        if instance.status == ApprovalInstance.Status.APPROVED or index < instance.current_step:
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
