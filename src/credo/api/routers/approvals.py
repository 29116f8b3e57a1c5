"""审批流 API: my open tasks, an instance with its trail, and acting on a task.

Amounts are decimal strings in yuan ("1234.56"). ``POST /tasks/{id}/act`` honours
``Idempotency-Key`` (a replay returns the stored response and does not act twice).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.pagination import Page, paginate
from credo.api.schemas import ErrorOut
from credo.approvals import selectors, services
from credo.approvals.errors import ApprovalError
from credo.approvals.models import ApprovalInstance, ApprovalTask
from credo.core.money import Money

router = Router(tags=["approvals"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


def _y(fen: int | None) -> str | None:
    if fen is None:
        return None
    return str(Money.from_fen(int(fen)).yuan)


class TaskOut(Schema):
    id: int
    instance_id: int
    title: str
    url: str
    step: int
    step_name: str
    mode: str
    role: str
    status: str
    assignee: str
    due_at: str | None
    overdue: bool
    amount: str | None
    months: int | None


class TaskFilter(Schema):
    page: int = 1
    page_size: int | None = None


class ActionOut(Schema):
    kind: str
    step: int | None
    actor: str | None
    comment: str
    amount: str | None
    months: int | None
    at: str
    detail: dict[str, Any]


class InstanceOut(Schema):
    id: int
    flow: str
    flow_version: int
    subject_type: str
    subject_id: str
    title: str
    url: str
    route: str
    route_name: str
    route_reason: str
    status: str
    current_step: int
    amount: str | None
    months: int | None
    decided_amount: str | None
    decided_months: int | None
    question: str
    tasks: list[TaskOut]
    trail: list[ActionOut]


class ActIn(Schema):
    action: str
    comment: str = ""
    amount: str | None = None
    months: int | None = None
    transfer_to: int | None = None


def task_out(task: ApprovalTask) -> dict[str, Any]:
    instance = task.instance
    return {
        "id": task.pk,
        "instance_id": instance.pk,
        "title": instance.title,
        "url": instance.url,
        "step": task.step,
        "step_name": task.step_name,
        "mode": task.mode,
        "role": task.role,
        "status": task.status,
        "assignee": task.assignee.get_username(),
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "overdue": task.is_overdue,
        "amount": _y(instance.amount),
        "months": instance.months,
    }


def instance_out(instance: ApprovalInstance) -> dict[str, Any]:
    tasks = instance.tasks.select_related("assignee", "instance").order_by("id")
    return {
        "id": instance.pk,
        "flow": instance.flow_version.flow.key,
        "flow_version": instance.flow_version.number,
        "subject_type": instance.subject_type,
        "subject_id": instance.subject_id,
        "title": instance.title,
        "url": instance.url,
        "route": instance.route,
        "route_name": instance.route_name,
        "route_reason": instance.route_reason,
        "status": instance.status,
        "current_step": instance.current_step,
        "amount": _y(instance.amount),
        "months": instance.months,
        "decided_amount": _y(instance.decided_amount),
        "decided_months": instance.decided_months,
        "question": instance.question,
        "tasks": [task_out(t) for t in tasks],
        "trail": [
            {
                "kind": a.kind,
                "step": a.step,
                "actor": a.actor.get_username() if a.actor else None,
                "comment": a.comment,
                "amount": _y(a.amount),
                "months": a.months,
                "at": a.created_at.isoformat(),
                "detail": a.detail,
            }
            for a in selectors.trail(instance)
        ],
    }


def _fen(text: str | None) -> int | None:
    if text is None or str(text).strip() == "":
        return None
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise ApiError(
            "validation_error",
            _("请求参数校验失败"),
            status=422,
            details={"body.amount": [_("金额必须是大于 0、最多两位小数的数字（元）")]},
        )
    return Money(value).fen


@router.get("/tasks", response={200: Page[TaskOut], **ERRORS}, summary="我的待审批任务")
def list_tasks(request: HttpRequest, filters: Query[TaskFilter]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "approvals.view_approvalinstance")
    data = paginate(selectors.open_tasks_for(request.user), filters.page, filters.page_size)
    data["items"] = [task_out(t) for t in data["items"]]
    return data


@router.get("/instances/{instance_id}", response={200: InstanceOut, **ERRORS}, summary="审批详情")
def get_instance(request: HttpRequest, instance_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "approvals.view_approvalinstance")
    try:
        instance = selectors.instance_get(request.user, instance_id)
    except Http404:
        raise ApiError("not_found", _("审批不存在或无权访问"), status=404) from None
    return instance_out(instance)


@router.post(
    "/tasks/{task_id}/act",
    response={200: InstanceOut, **ERRORS},
    summary="处理审批任务：approve / reject / return / transfer（支持 Idempotency-Key）",
)
@idempotent
def act(request: HttpRequest, task_id: int, payload: ActIn) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "approvals.view_approvalinstance")
    try:
        task = selectors.task_get(request.user, task_id)
    except Http404:
        raise ApiError("not_found", _("审批任务不存在或无权访问"), status=404) from None
    try:
        instance = services.approval_act(
            task=task,
            actor=request.user,
            action=payload.action,
            comment=payload.comment,
            amount=_fen(payload.amount),
            months=payload.months,
            transfer_to=payload.transfer_to,
        )
    except ApprovalError as exc:
        # a conflict of interest carries its reason (owner / creator / submitter / ...)
        details = getattr(exc, "details", None)
        raise ApiError(exc.code, exc.message, status=exc.status, details=details) from exc
    instance.refresh_from_db()
    return instance_out(instance)
