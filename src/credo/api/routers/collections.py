"""催收 API: cases (mine / team, scoped), case detail, contact attempts under the compliance
guardrails (refused → 409 with the rule) and promises to pay. Amounts are yuan strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.pagination import Page, PageQuery, paginate
from credo.api.schemas import ErrorOut
from credo.collections import selectors, services
from credo.collections.errors import CollectionsError, GuardrailViolation
from credo.collections.models import CollectionCase, ContactAttempt, PromiseToPay
from credo.core.money import Money, fen_of, format_fen

router = Router(tags=["collections"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


class CaseOut(Schema):
    id: int
    loan_id: int
    loan_number: str
    customer_id: int
    customer_name: str
    tier: str
    action: str
    status: str
    dpd: int
    amount: str
    priority: int
    assignee: str | None
    broken_promises: int
    opened_on: dt.date
    closed_at: dt.datetime | None
    close_reason: str


class AttemptOut(Schema):
    id: int
    channel: str
    party: str
    party_name: str
    outcome: str
    notes: str
    attempted_at: dt.datetime


class PromiseOut(Schema):
    id: int
    promised_date: dt.date
    amount: str
    status: str
    paid_amount: str


class CaseDetailOut(CaseOut):
    overdue_amount: str
    reasons: list[dict[str, Any]]
    attempts: list[AttemptOut]
    promises: list[PromiseOut]
    targets: list[dict[str, Any]]


class CaseFilter(PageQuery):
    view: str = "mine"
    status: str = ""
    tier: str = ""
    q: str = ""


class ContactIn(Schema):
    target: str = "borrower"
    channel: str
    outcome: str
    notes: str = ""


class PromiseIn(Schema):
    promised_date: dt.date
    amount: str


def _y(value: Any) -> str:
    return format_fen(fen_of(value), grouping=False)


def case_out(case: CollectionCase) -> dict[str, Any]:
    return {
        "id": case.pk,
        "loan_id": case.loan_id,
        "loan_number": case.loan.number,
        "customer_id": case.customer_id,
        "customer_name": case.customer.name,
        "tier": case.tier,
        "action": case.action,
        "status": case.status,
        "dpd": case.dpd,
        "amount": _y(case.amount),
        "priority": case.priority,
        "assignee": str(case.assignee) if case.assignee else None,
        "broken_promises": case.broken_promises,
        "opened_on": case.opened_on,
        "closed_at": case.closed_at,
        "close_reason": case.close_reason,
    }


def attempt_out(a: ContactAttempt) -> dict[str, Any]:
    return {
        "id": a.pk,
        "channel": a.channel,
        "party": a.party,
        "party_name": a.party_name,
        "outcome": a.outcome,
        "notes": a.notes,
        "attempted_at": a.attempted_at,
    }


def promise_out(p: PromiseToPay) -> dict[str, Any]:
    return {
        "id": p.pk,
        "promised_date": p.promised_date,
        "amount": _y(p.amount),
        "status": p.status,
        "paid_amount": _y(p.paid_amount),
    }


def _get_case(request: HttpRequest, case_id: int) -> CollectionCase:
    try:
        return selectors.case_get(request.user, case_id)
    except Http404:
        raise ApiError("not_found", _("催收案件不存在或无权访问"), status=404) from None


def _error(exc: CollectionsError) -> ApiError:
    details = {"rule": exc.rule} if isinstance(exc, GuardrailViolation) else {}
    return ApiError(exc.code, exc.message, status=exc.status, details=details)


@router.get("/cases", response={200: Page[CaseOut], **ERRORS}, summary="催收案件（我的/团队）")
def list_cases(request: HttpRequest, filters: Query[CaseFilter]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "collections.view_collectioncase")
    if filters.view == "team":
        require_perm(request, "collections.manage_cases")
        qs = selectors.cases_visible(request.user)
    else:
        qs = selectors.cases_mine(request.user)
    qs = selectors.cases_filter(qs, filters.model_dump())
    data = paginate(qs, filters.page, filters.page_size)
    data["items"] = [case_out(c) for c in data["items"]]
    return data


@router.get("/cases/{case_id}", response={200: CaseDetailOut, **ERRORS}, summary="催收案件详情")
def get_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "collections.view_collectioncase")
    case = _get_case(request, case_id)
    targets = [
        {"key": t["key"], "party": t["party"], "name": t["name"], "title": str(t["title"])}
        for t in services.contact_targets(case)
    ]
    return {
        **case_out(case),
        "overdue_amount": _y(services.overdue_amount(case.loan)),
        "reasons": case.reasons,
        "attempts": [attempt_out(a) for a in case.attempts.all()[:100]],
        "promises": [promise_out(p) for p in case.promises.all()[:50]],
        "targets": targets,
    }


@router.post(
    "/cases/{case_id}/contacts",
    response={201: AttemptOut, **ERRORS},
    summary="登记联系（合规拦截：409 + 规则；支持 Idempotency-Key）",
)
@idempotent
def create_contact(request: HttpRequest, case_id: int, payload: ContactIn) -> Status[Any]:
    require_scope(request, "write")
    require_perm(request, "collections.contact_case")
    case = _get_case(request, case_id)
    try:
        attempt = services.contact_log(
            case=case,
            target=payload.target,
            channel=payload.channel,
            outcome=payload.outcome,
            notes=payload.notes[:2000],
            actor=request.user,
        )
    except CollectionsError as exc:
        raise _error(exc) from exc
    return Status(201, attempt_out(attempt))


@router.post(
    "/cases/{case_id}/promises",
    response={201: PromiseOut, **ERRORS},
    summary="登记还款承诺（支持 Idempotency-Key）",
)
@idempotent
def create_promise(request: HttpRequest, case_id: int, payload: PromiseIn) -> Status[Any]:
    require_scope(request, "write")
    require_perm(request, "collections.contact_case")
    case = _get_case(request, case_id)
    try:
        value = Decimal(str(payload.amount).strip())
    except (InvalidOperation, ValueError):
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise ApiError(
            "validation_error",
            _("请求参数校验失败"),
            status=422,
            details={"body.amount": [_("金额必须是大于 0、最多两位小数的数字（元）")]},
        )
    try:
        promise = services.promise_create(
            case=case,
            promised_date=payload.promised_date,
            amount=Money(value),
            actor=request.user,
        )
    except CollectionsError as exc:
        raise _error(exc) from exc
    return Status(201, promise_out(promise))
