"""决策模型 API: models, versions (drafts, publish), test cases, simulation and dry-run
evaluation. Writes honour ``Idempotency-Key`` (``@idempotent``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.schemas import ErrorOut
from credo.rules import selectors, services
from credo.rules.errors import RuleError
from credo.rules.forms import SIM_MAX
from credo.rules.models import DecisionModel, DecisionTestCase, DecisionVersion

router = Router(tags=["rules"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}
VIEW = "rules.view_decisionmodel"
EDIT = "rules.edit_rules"
PUBLISH = "rules.publish_rules"


# --- schemas -------------------------------------------------------------------------------------
class ModelOut(Schema):
    key: str
    name: str
    description: str
    published_version: int | None
    draft_version: int | None
    tests: int


class VersionOut(Schema):
    number: int
    status: str
    note: str
    created_by: str | None
    created_at: str
    published_by: str | None
    published_at: str | None


class VersionContentOut(VersionOut):
    content: dict[str, Any]


class TestCaseOut(Schema):
    __test__ = False

    id: int
    name: str
    input: dict[str, Any]
    expected: dict[str, Any]


class ModelDetailOut(ModelOut):
    inputs: list[list[str]]
    outputs: list[list[str]]
    versions: list[VersionOut]
    test_cases: list[TestCaseOut]


class VersionIn(Schema):
    content: dict[str, Any] | None = None
    from_version: int | None = None
    note: str = ""


class VersionUpdateIn(Schema):
    content: dict[str, Any]
    note: str | None = None


class TestCaseIn(Schema):
    __test__ = False

    name: str
    input: dict[str, Any] = {}
    expected: dict[str, Any]


class SimulateIn(Schema):
    limit: int = 1000


class SimulationOut(Schema):
    total: int
    changed: int
    errors: int
    seconds: float
    summary: dict[str, int]
    rows: list[dict[str, Any]]


class EvaluateIn(Schema):
    input: dict[str, Any]
    version: int | None = None


class EvaluateOut(Schema):
    version: int
    result: dict[str, Any]
    reasons: list[dict[str, Any]]


# --- helpers -------------------------------------------------------------------------------------
def _user(user: Any) -> str | None:
    return (getattr(user, "display_name", "") or user.get_username()) if user else None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def version_out(v: DecisionVersion, *, content: bool = False) -> dict[str, Any]:
    data = {
        "number": v.number,
        "status": v.status,
        "note": v.note,
        "created_by": _user(v.created_by),
        "created_at": _iso(v.created_at),
        "published_by": _user(v.published_by),
        "published_at": _iso(v.published_at),
    }
    if content:
        data["content"] = v.content
    return data


def case_out(case: DecisionTestCase) -> dict[str, Any]:
    return {"id": case.pk, "name": case.name, "input": case.input, "expected": case.expected}


def model_out(row: dict[str, Any]) -> dict[str, Any]:
    m: DecisionModel = row["model"]
    return {
        "key": m.key,
        "name": m.name,
        "description": m.description,
        "published_version": getattr(row["published"], "number", None),
        "draft_version": getattr(row["draft"], "number", None),
        "tests": row["n_tests"],
    }


def _rule_error(exc: RuleError) -> ApiError:
    details = exc.details
    if details is not None and not isinstance(details, dict):
        details = {"failures": details}
    return ApiError(exc.code, exc.message, status=exc.status, details=details)


def _model(key: str) -> DecisionModel:
    try:
        return selectors.model_get(key)
    except Http404:
        raise ApiError("not_found", _("决策模型不存在"), status=404) from None


def _version(model: DecisionModel, number: int) -> DecisionVersion:
    try:
        return selectors.version_get(model, number)
    except Http404:
        raise ApiError("not_found", _("版本不存在"), status=404) from None


def _read(request: HttpRequest) -> None:
    require_scope(request, "read")
    require_perm(request, VIEW)


def _write(request: HttpRequest, perm: str) -> None:
    require_scope(request, "write")
    require_perm(request, perm)


# --- reads ---------------------------------------------------------------------------------------
@router.get("/models", response={200: list[ModelOut], **ERRORS}, summary="决策模型列表")
def models_list(request: HttpRequest) -> list[dict[str, Any]]:
    _read(request)
    return [model_out(row) for row in selectors.model_list()]


@router.get("/models/{key}", response={200: ModelDetailOut, **ERRORS}, summary="决策模型详情")
def model_detail(request: HttpRequest, key: str) -> dict[str, Any]:
    _read(request)
    model = _model(key)
    versions = list(selectors.model_versions(model))
    published = next((v for v in versions if v.status == DecisionVersion.Status.PUBLISHED), None)
    draft = next((v for v in versions if v.status == DecisionVersion.Status.DRAFT), None)
    cases = list(model.test_cases.all())
    fields = selectors.spec_fields(key)
    data = model_out(
        {"model": model, "published": published, "draft": draft, "n_tests": len(cases)}
    )
    data.update(
        inputs=[list(f) for f in fields["inputs"]],
        outputs=[list(f) for f in fields["outputs"]],
        versions=[version_out(v) for v in versions],
        test_cases=[case_out(c) for c in cases],
    )
    return data


@router.get(
    "/models/{key}/versions/{number}",
    response={200: VersionContentOut, **ERRORS},
    summary="版本内容（JDM）",
)
def version_detail(request: HttpRequest, key: str, number: int) -> dict[str, Any]:
    _read(request)
    return version_out(_version(_model(key), number), content=True)


# --- writes --------------------------------------------------------------------------------------
@router.post(
    "/models/{key}/versions",
    response={201: VersionContentOut, **ERRORS},
    summary="新建草稿（上传 JDM 或复制版本）",
)
@idempotent
def version_create(request: HttpRequest, key: str, payload: VersionIn) -> Status[Any]:
    _write(request, EDIT)
    model = _model(key)
    source = _version(model, payload.from_version) if payload.from_version else None
    try:
        draft = services.version_create(
            model=model,
            content=payload.content,
            from_version=source,
            note=payload.note,
            actor=request.user,
        )
    except RuleError as exc:
        raise _rule_error(exc) from exc
    return Status(201, version_out(draft, content=True))


@router.put(
    "/models/{key}/versions/{number}",
    response={200: VersionContentOut, **ERRORS},
    summary="修改草稿",
)
@idempotent
def version_update(
    request: HttpRequest, key: str, number: int, payload: VersionUpdateIn
) -> dict[str, Any]:
    _write(request, EDIT)
    version = _version(_model(key), number)
    try:
        version = services.version_update(
            version=version, content=payload.content, note=payload.note, actor=request.user
        )
    except RuleError as exc:
        raise _rule_error(exc) from exc
    return version_out(version, content=True)


@router.post(
    "/models/{key}/versions/{number}/publish",
    response={200: VersionOut, **ERRORS},
    summary="发布草稿（全部测试用例须通过）",
)
@idempotent
def version_publish(request: HttpRequest, key: str, number: int) -> dict[str, Any]:
    _write(request, PUBLISH)
    version = _version(_model(key), number)
    try:
        version = services.version_publish(version=version, actor=request.user)
    except RuleError as exc:
        raise _rule_error(exc) from exc
    return version_out(version)


@router.post(
    "/models/{key}/versions/{number}/simulate",
    response={200: SimulationOut, **ERRORS},
    summary="模拟：最近 N 条真实输入的决策变化",
)
def version_simulate(
    request: HttpRequest, key: str, number: int, payload: SimulateIn
) -> dict[str, Any]:
    # A read (nothing stored), but it runs the draft workflow: same permission as editing.
    _write(request, EDIT)
    if not 1 <= payload.limit <= SIM_MAX:
        raise ApiError(
            "validation_error",
            _("请求参数校验失败"),
            status=422,
            details={"body.limit": [f"1–{SIM_MAX}"]},
        )
    version = _version(_model(key), number)
    try:
        sim = services.simulate(version, limit=payload.limit)
    except RuleError as exc:
        raise _rule_error(exc) from exc
    return {
        "total": sim.total,
        "changed": sim.changed,
        "errors": sim.errors,
        "seconds": round(sim.seconds, 3),
        "summary": sim.summary,
        "rows": sim.rows,
    }


@router.post("/models/{key}/tests", response={201: TestCaseOut, **ERRORS}, summary="添加测试用例")
@idempotent
def testcase_create(request: HttpRequest, key: str, payload: TestCaseIn) -> Status[Any]:
    _write(request, EDIT)
    model = _model(key)
    try:
        case = services.testcase_create(
            model=model,
            name=payload.name,
            input=payload.input,
            expected=payload.expected,
            actor=request.user,
        )
    except RuleError as exc:
        raise _rule_error(exc) from exc
    return Status(201, case_out(case))


@router.delete(
    "/models/{key}/tests/{case_id}", response={204: None, **ERRORS}, summary="删除测试用例"
)
def testcase_delete(request: HttpRequest, key: str, case_id: int) -> Status[None]:
    # DELETE is idempotent by nature: a second call answers 404, nothing else changes.
    _write(request, EDIT)
    model = _model(key)
    try:
        case = selectors.testcase_get(model, case_id)
    except Http404:
        raise ApiError("not_found", _("测试用例不存在"), status=404) from None
    services.testcase_delete(case=case, actor=request.user)
    return Status(204, None)


@router.post(
    "/models/{key}/evaluate",
    response={200: EvaluateOut, **ERRORS},
    summary="试算（不记录）",
)
def evaluate(request: HttpRequest, key: str, payload: EvaluateIn) -> dict[str, Any]:
    _read(request)
    model = _model(key)
    try:
        version = (
            _version(model, payload.version)
            if payload.version
            else services.published_version(model.key)
        )
        result, reasons = services.run_version(version, payload.input)
    except RuleError as exc:
        raise _rule_error(exc) from exc
    return {"version": version.number, "result": result, "reasons": reasons}
