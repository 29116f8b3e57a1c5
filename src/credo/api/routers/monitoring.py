"""贷后监控 API: alerts (scoped list, detail) and handling actions (idempotent)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.pagination import Page, PageQuery, paginate
from credo.api.schemas import ErrorOut
from credo.monitoring import selectors, services
from credo.monitoring.errors import InvalidAction, MonitoringError
from credo.monitoring.models import Alert

router = Router(tags=["monitoring"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


class AlertOut(Schema):
    id: int
    rule_code: str
    rule_name: str
    severity: str
    status: str
    customer_id: int
    customer_name: str
    loan_id: int
    loan_number: str
    assignee_id: int | None
    branch_id: int | None
    business_date: str
    due_at: str
    sla_overdue: bool
    created_at: str


class ActionOut(Schema):
    kind: str
    note: str
    detail: dict[str, Any]
    actor_id: int | None
    created_at: str


class AlertDetailOut(AlertOut):
    reasons: list[dict[str, Any]]
    snapshot: dict[str, Any]
    rules_version: int | None
    conclusion: str
    actions: list[ActionOut]


class AlertFilter(PageQuery):
    status: str = ""
    severity: str = ""
    rule: str = ""
    assignee: str = ""
    branch: str = ""
    overdue: str = ""
    q: str = ""


class ActionIn(Schema):
    action: str
    channel: str = ""
    summary: str = ""
    note: str = ""
    reason: str = ""
    amount: str = ""
    conclusion: str = ""


def alert_out(a: Alert) -> dict[str, Any]:
    from django.utils import timezone

    return {
        "id": a.pk,
        "rule_code": a.rule_code,
        "rule_name": a.rule_name,
        "severity": a.severity,
        "status": a.status,
        "customer_id": a.customer_id,
        "customer_name": a.customer.name,
        "loan_id": a.loan_id,
        "loan_number": a.loan.number,
        "assignee_id": a.assignee_id,
        "branch_id": a.branch_id,
        "business_date": a.business_date.isoformat(),
        "due_at": a.due_at.isoformat(),
        "sla_overdue": a.status != Alert.Status.CLOSED and a.due_at < timezone.now(),
        "created_at": a.created_at.isoformat(),
    }


def alert_detail_out(a: Alert) -> dict[str, Any]:
    return {
        **alert_out(a),
        "reasons": a.reasons,
        "snapshot": a.snapshot,
        "rules_version": a.rules_version.number if a.rules_version else None,
        "conclusion": a.conclusion,
        "actions": [
            {
                "kind": x.kind,
                "note": x.note,
                "detail": x.detail,
                "actor_id": x.actor_id,
                "created_at": x.created_at.isoformat(),
            }
            for x in a.actions.all()
        ],
    }


def _get(request: HttpRequest, alert_id: int) -> Alert:
    try:
        return selectors.alert_get(request.user, alert_id)
    except Http404:
        raise ApiError("not_found", _("预警不存在或无权访问"), status=404) from None


@router.get("/alerts", response={200: Page[AlertOut], **ERRORS}, summary="预警列表（按数据权限）")
def list_alerts(request: HttpRequest, filters: Query[AlertFilter]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "monitoring.view_alert")
    params = filters.model_dump()
    data = paginate(selectors.alert_list(request.user, params), filters.page, filters.page_size)
    data["items"] = [alert_out(a) for a in data["items"]]
    return data


@router.get("/alerts/{alert_id}", response={200: AlertDetailOut, **ERRORS}, summary="预警详情")
def get_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "monitoring.view_alert")
    return alert_detail_out(_get(request, alert_id))


@router.post(
    "/alerts/{alert_id}/actions",
    response={200: AlertDetailOut, **ERRORS},
    summary="处理预警（acknowledge/contact/request_guarantee/freeze_limit/adjust_limit/escalate/close）",
)
@idempotent
def act_alert(request: HttpRequest, alert_id: int, payload: ActionIn) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "monitoring.handle_alert")
    alert = _get(request, alert_id)
    data = payload.model_dump()
    if payload.action not in services.ACTIONS:
        raise ApiError("invalid_action", _("未知的处理动作。"), status=422)
    try:
        alert = services.alert_action(
            alert=alert, action=payload.action, data=data, actor=request.user
        )
    except InvalidAction as exc:
        raise ApiError(exc.code, exc.message, status=422) from exc
    except MonitoringError as exc:
        raise ApiError(exc.code, exc.message, status=409) from exc
    return alert_detail_out(selectors.alert_get(request.user, alert.pk))
