"""API: 自动化 — the event catalogue, automations and their versions (drafts, publish, retire),
test cases, dry run and replay (nothing written), and the run log. Writes honour
``Idempotency-Key`` (``@idempotent``)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.schemas import ErrorOut

router = Router(tags=["automations"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}
VIEW = "automations.view_automation"
MANAGE = "automations.manage_automation"


class EventTypeOut(Schema):
    key: str
    label: str
    object_type: str
    group: str
    description: str
    fields: list[str]


class VersionOut(Schema):
    number: int
    status: str
    trigger: dict[str, Any]
    condition: dict[str, Any]
    actions: list[dict[str, Any]]
    note: str
    granted: list[str]
    published_at: str | None


class AutomationOut(Schema):
    id: int
    name: str
    description: str
    published_version: int | None
    draft_version: int | None
    versions: list[VersionOut]


class AutomationIn(Schema):
    name: str
    description: str = ""
    trigger: dict[str, Any] | None = None
    condition: dict[str, Any] | None = None
    actions: list[dict[str, Any]] | None = None


class VersionIn(Schema):
    trigger: dict[str, Any]
    condition: dict[str, Any] = {"kind": "none"}
    actions: list[dict[str, Any]]
    note: str = ""


class TestCaseIn(Schema):
    __test__ = False

    name: str
    input: dict[str, Any]
    expected_fire: bool = True


class TestCaseOut(Schema):
    __test__ = False

    id: int
    name: str
    input: dict[str, Any]
    expected_fire: bool


class TryResultOut(Schema):
    occurrence: str
    object_type: str
    object_id: str
    object_repr: str
    event_type: str
    fires: bool
    condition: str
    actions: list[dict[str, Any]]


class TryOut(Schema):
    mode: str
    checked: int
    firing: int
    results: list[TryResultOut]


class RunOut(Schema):
    id: int
    automation: int
    version: int
    occurrence: str
    trigger_type: str
    object_type: str
    object_id: str
    object_repr: str
    event: dict[str, Any]
    inputs: dict[str, Any]
    condition_result: bool | None
    condition_detail: str
    outcomes: list[dict[str, Any]]
    status: str
    depth: int
    created_at: str


class RunPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[RunOut]


def _read(request: HttpRequest) -> None:
    require_scope(request, "read")
    require_perm(request, VIEW)


def _write(request: HttpRequest) -> None:
    require_scope(request, "write")
    require_perm(request, MANAGE)


def _err(exc: Any) -> ApiError:
    return ApiError(exc.code, exc.message, status=exc.status, details={"fields": exc.field_errors})


def _automation(pk: int) -> Any:
    from credo.automations import selectors

    try:
        return selectors.automation_get(pk)
    except Http404:
        raise ApiError("not_found", "自动化不存在", status=404) from None


def _version(automation: Any, number: int) -> Any:
    from credo.automations import selectors

    try:
        return selectors.version_get(automation, number)
    except Http404:
        raise ApiError("not_found", "版本不存在", status=404) from None


def version_out(v: Any) -> dict[str, Any]:
    return {
        "number": v.number,
        "status": v.status,
        "trigger": v.trigger,
        "condition": v.condition,
        "actions": v.actions,
        "note": v.note,
        "granted": list(v.granted or []),
        "published_at": v.published_at.isoformat() if v.published_at else None,
    }


def automation_out(a: Any) -> dict[str, Any]:
    versions = list(a.versions.order_by("-number"))
    return {
        "id": a.pk,
        "name": a.name,
        "description": a.description,
        "published_version": next((v.number for v in versions if v.status == "published"), None),
        "draft_version": next((v.number for v in versions if v.status == "draft"), None),
        "versions": [version_out(v) for v in versions],
    }


@router.get("/events", response={200: list[EventTypeOut], **ERRORS}, summary="业务事件目录")
def events_catalogue(request: HttpRequest) -> list[dict[str, Any]]:
    _read(request)
    from credo.core.events.catalogue import catalogue

    return catalogue()


@router.get("", response={200: list[AutomationOut], **ERRORS}, summary="自动化列表")
def automations_list(request: HttpRequest) -> list[dict[str, Any]]:
    _read(request)
    from credo.automations.models import Automation

    return [automation_out(a) for a in Automation.objects.order_by("-id")[:200]]


@router.post("", response={201: AutomationOut, **ERRORS}, summary="新建自动化")
@idempotent
def automation_create(request: HttpRequest, payload: AutomationIn) -> Status[Any]:
    _write(request)
    from credo.automations import services
    from credo.automations.errors import AutomationError

    try:
        version = services.automation_create(
            name=payload.name,
            description=payload.description,
            trigger=payload.trigger,
            condition=payload.condition,
            actions=payload.actions,
            actor=request.user,
        )
    except AutomationError as exc:
        raise _err(exc) from None
    return Status(201, automation_out(version.automation))


@router.get("/{pk}", response={200: AutomationOut, **ERRORS}, summary="自动化详情")
def automation_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    _read(request)
    return automation_out(_automation(pk))


@router.post("/{pk}/versions", response={201: VersionOut, **ERRORS}, summary="新建草稿")
@idempotent
def version_create(request: HttpRequest, pk: int) -> Status[Any]:
    _write(request)
    from credo.automations import services
    from credo.automations.errors import AutomationError

    try:
        draft = services.version_new(automation=_automation(pk), actor=request.user)
    except AutomationError as exc:
        raise _err(exc) from None
    return Status(201, version_out(draft))


@router.put(
    "/{pk}/versions/{number}",
    response={200: VersionOut, **ERRORS},
    summary="保存草稿",
)
def version_update(
    request: HttpRequest, pk: int, number: int, payload: VersionIn
) -> dict[str, Any]:
    _write(request)
    from credo.automations import services
    from credo.automations.errors import AutomationError

    version = _version(_automation(pk), number)
    try:
        saved = services.version_update(
            version=version,
            actor=request.user,
            trigger=payload.trigger,
            condition=payload.condition,
            actions=payload.actions,
            note=payload.note,
        )
    except AutomationError as exc:
        raise _err(exc) from None
    return version_out(saved)


@router.post(
    "/{pk}/versions/{number}/publish",
    response={200: VersionOut, **ERRORS},
    summary="发布版本",
)
@idempotent
def version_publish(request: HttpRequest, pk: int, number: int) -> dict[str, Any]:
    _write(request)
    from credo.automations import services
    from credo.automations.errors import AutomationError

    try:
        return version_out(
            services.version_publish(version=_version(_automation(pk), number), actor=request.user)
        )
    except AutomationError as exc:
        raise _err(exc) from None


@router.post(
    "/{pk}/versions/{number}/retire",
    response={200: VersionOut, **ERRORS},
    summary="停用版本",
)
@idempotent
def version_retire(request: HttpRequest, pk: int, number: int) -> dict[str, Any]:
    _write(request)
    from credo.automations import services
    from credo.automations.errors import AutomationError

    try:
        return version_out(
            services.version_retire(version=_version(_automation(pk), number), actor=request.user)
        )
    except AutomationError as exc:
        raise _err(exc) from None


@router.post("/{pk}/tests", response={201: TestCaseOut, **ERRORS}, summary="添加测试用例")
@idempotent
def testcase_create(request: HttpRequest, pk: int, payload: TestCaseIn) -> Status[Any]:
    _write(request)
    from credo.automations import services
    from credo.automations.errors import AutomationError

    try:
        case = services.testcase_create(
            automation=_automation(pk),
            name=payload.name,
            input=payload.input,
            expected_fire=payload.expected_fire,
            actor=request.user,
        )
    except AutomationError as exc:
        raise _err(exc) from None
    return Status(
        201,
        {
            "id": case.pk,
            "name": case.name,
            "input": case.input,
            "expected_fire": case.expected_fire,
        },
    )


def _try(version: Any, mode: str, days: int) -> dict[str, Any]:
    from credo.automations import engine, services

    problems = services.validate_version(version)
    if problems:
        raise ApiError(
            "invalid_automation", "自动化配置有误", status=422, details={"fields": problems}
        )
    found = engine.replay(version, days=days) if mode == "replay" else engine.dry_run(version)
    rows = [r.as_dict() for r in found]
    return {
        "mode": mode,
        "checked": len(rows),
        "firing": sum(1 for r in rows if r["fires"]),
        "results": rows,
    }


@router.post(
    "/{pk}/versions/{number}/dry-run",
    response={200: TryOut, **ERRORS},
    summary="对现有记录试运行（不写入）",
)
def version_dry_run(request: HttpRequest, pk: int, number: int) -> dict[str, Any]:
    _write(request)
    return _try(_version(_automation(pk), number), "dry", 0)


@router.post(
    "/{pk}/versions/{number}/replay",
    response={200: TryOut, **ERRORS},
    summary="回放最近 N 天的事件历史（不写入）",
)
def version_replay(request: HttpRequest, pk: int, number: int, days: int = 7) -> dict[str, Any]:
    _write(request)
    if not 1 <= days <= 90:
        raise ApiError("invalid_days", "回放天数须为 1 至 90", status=422)
    return _try(_version(_automation(pk), number), "replay", days)


@router.get("/{pk}/runs", response={200: RunPageOut, **ERRORS}, summary="运行记录")
def runs_list(
    request: HttpRequest, pk: int, status: str = "", page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    _read(request)
    from credo.automations import selectors

    paginator = Paginator(
        selectors.runs_of(_automation(pk), status=status), max(1, min(page_size, 200))
    )
    current = paginator.get_page(page)
    return {
        "count": paginator.count,
        "page": current.number,
        "pages": paginator.num_pages,
        "results": [selectors.run_out(r) for r in current.object_list],
    }
