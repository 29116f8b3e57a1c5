"""评分卡 API: versions and their model cards, training (CSV upload or the loan book),
publish/retire, what-if scoring of feature values and the stored score of an application."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.schemas import ErrorOut
from credo.scorecard import services
from credo.scorecard.errors import InvalidInput, NotAllowed, ScorecardError, StaleVersion
from credo.scorecard.models import Scorecard

router = Router(tags=["scorecard"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


class VersionOut(Schema):
    version: int
    name: str
    status: str
    source: str
    source_name: str
    rows: int
    bads: int
    auc: float | None
    ks: float | None
    gini: float | None
    features: int
    progress: int
    progress_note: str
    error: str
    trained_at: str | None
    published_at: str | None


class ScoreIn(Schema):
    features: dict[str, Any]
    version: int | None = None


class ChangeIn(Schema):
    expected_version: int | None = None


def _version_out(card: Scorecard) -> dict[str, Any]:
    return {
        "version": card.number,
        "name": card.name,
        "status": card.status,
        "source": card.source,
        "source_name": card.source_name,
        "rows": card.rows,
        "bads": card.bads,
        "auc": card.auc,
        "ks": card.ks,
        "gini": card.gini,
        "features": card.feature_count,
        "progress": card.progress,
        "progress_note": card.progress_note,
        "error": card.error,
        "trained_at": card.trained_at.isoformat() if card.trained_at else None,
        "published_at": card.published_at.isoformat() if card.published_at else None,
    }


def _err(exc: ScorecardError) -> ApiError:
    if isinstance(exc, NotAllowed):
        return ApiError("forbidden", exc.message, status=403)
    if isinstance(exc, InvalidInput):
        return ApiError("invalid_input", exc.message, status=422)
    if isinstance(exc, StaleVersion):
        return ApiError("stale_version", exc.message, status=409)
    return ApiError("invalid_state", exc.message, status=409)


def _get(number: int) -> Scorecard:
    card = Scorecard.objects.filter(number=number).first()
    if card is None:
        raise ApiError("not_found", "评分卡版本不存在", status=404)
    return card


@router.get("/versions", response={200: list[VersionOut], **ERRORS}, summary="评分卡版本列表")
def list_versions(request: HttpRequest) -> list[dict[str, Any]]:
    require_scope(request, "read")
    require_perm(request, "scorecard.view_scorecard")
    return [_version_out(c) for c in Scorecard.objects.defer("model").order_by("-number")[:200]]


@router.get(
    "/versions/{number}",
    response={200: dict[str, Any], **ERRORS},
    summary="模型卡（分箱、WOE、系数、指标）",
)
def get_version(request: HttpRequest, number: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "scorecard.view_scorecard")
    card = _get(number)
    return {**_version_out(card), "card": services.model_card(card)}


@router.post(
    "/versions",
    response={202: VersionOut, **ERRORS},
    summary="训练新版本（multipart：source=csv 附 file/target/bad_value，或 source=book）",
)
@idempotent
def train_version(
    request: HttpRequest,
    source: Form[str],
    name: Form[str] = "",
    target: Form[str] = "",
    bad_value: Form[str] = "",
    outcome_dpd: Form[int | None] = None,
    outcome_months: Form[int | None] = None,
    base_score: Form[float | None] = None,
    base_odds: Form[float | None] = None,
    pdo: Form[float | None] = None,
    max_bins: Form[int | None] = None,
    min_iv: Form[float | None] = None,
    max_corr: Form[float | None] = None,
    max_features: Form[int | None] = None,
    holdout: Form[float | None] = None,
    grade_cuts: Form[str] = "",
    file: File[UploadedFile | None] = None,
) -> Any:
    require_scope(request, "write")
    require_perm(request, "scorecard.train_scorecard")
    given = {
        "outcome_dpd": outcome_dpd,
        "outcome_months": outcome_months,
        "base_score": base_score,
        "base_odds": base_odds,
        "pdo": pdo,
        "max_bins": max_bins,
        "min_iv": min_iv,
        "max_corr": max_corr,
        "max_features": max_features,
        "holdout": holdout,
        "grade_cuts": grade_cuts,
    }
    config = {k: v for k, v in given.items() if v not in (None, "")}
    if source == "book":
        config.setdefault("outcome_dpd", 30)
        config.setdefault("outcome_months", 12)
    else:
        config.pop("outcome_dpd", None)
        config.pop("outcome_months", None)
    data = None
    if file is not None:
        if (file.size or 0) > services.max_upload_bytes():
            raise ApiError("invalid_input", "文件过大", status=422)
        data = file.read()
    try:
        card = services.scorecard_train_start(
            actor=request.user,
            source=source,
            config=config,
            name=name,
            csv_data=data,
            csv_name=(file.name or "") if file is not None else "",
            target=target,
            bad_value=bad_value,
        )
    except ScorecardError as exc:
        raise _err(exc) from None
    return Status(202, _version_out(card))


@router.post(
    "/versions/{number}/publish",
    response={200: VersionOut, **ERRORS},
    summary="发布（替换当前已发布版本）",
)
@idempotent
def publish_version(request: HttpRequest, number: int, body: ChangeIn) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "scorecard.publish_scorecard")
    try:
        card = services.scorecard_publish(
            scorecard=_get(number), actor=request.user, expected_version=body.expected_version
        )
    except ScorecardError as exc:
        raise _err(exc) from None
    return _version_out(card)


@router.post("/versions/{number}/retire", response={200: VersionOut, **ERRORS}, summary="停用")
@idempotent
def retire_version(request: HttpRequest, number: int) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "scorecard.publish_scorecard")
    try:
        card = services.scorecard_retire(scorecard=_get(number), actor=request.user)
    except ScorecardError as exc:
        raise _err(exc) from None
    return _version_out(card)


@router.post(
    "/score", response={200: dict[str, Any], **ERRORS}, summary="按特征值试算评分（不保存）"
)
def score(request: HttpRequest, body: ScoreIn) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "scorecard.view_scorecard")
    card = _get(body.version) if body.version is not None else services.published()
    if card is None:
        raise ApiError("invalid_state", "还没有已发布的评分卡", status=409)
    if card.status not in (Scorecard.Status.DRAFT, Scorecard.Status.PUBLISHED):
        raise ApiError("invalid_state", "该版本没有可用的模型", status=409)
    scored = services.score_record(body.features, scorecard=card)
    return {
        "version": card.number,
        "score": scored.score,
        "grade": scored.grade,
        "reasons": scored.reasons,
        "points": scored.points,
    }


@router.get(
    "/applications/{application_id}",
    response={200: dict[str, Any], **ERRORS},
    summary="申请的评分与主要扣分原因",
)
def application_score(request: HttpRequest, application_id: int) -> dict[str, Any]:
    from credo.origination import selectors as origination_selectors

    require_scope(request, "read")
    require_perm(request, "origination.view_application")
    app = origination_selectors.application_get(request.user, application_id)  # 404 outside scope
    stored = services.latest_score(app)
    if stored is None:
        return {"scored": False}
    return {
        "scored": True,
        "version": stored.scorecard.number,
        "score": stored.score,
        "grade": stored.grade,
        "reasons": stored.reasons,
        "points": stored.points,
        "scored_at": stored.created_at.isoformat(),
    }
