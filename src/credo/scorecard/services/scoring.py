"""Scoring applications (and what-if records) with the published version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from credo.core.bulk import json_bulk_insert
from credo.scorecard import engine, features
from credo.scorecard.errors import InvalidState
from credo.scorecard.models import ApplicationScore, Scorecard

S = Scorecard.Status

# --- scoring -------------------------------------------------------------------------------
_MODELS: dict[tuple[int, int], engine.ScoreModel] = {}
SCORE_COLUMNS = {
    "application": "bigint",
    "scorecard": "bigint",
    "score": "integer",
    "grade": "text",
    "reasons": "jsonb",
    "points": "jsonb",
    "inputs": "jsonb",
}


def score_model(card: Scorecard) -> engine.ScoreModel:
    """The compiled model of a version (cached per process: a trained model never changes)."""
    key = (card.pk, card.number)
    model = _MODELS.get(key)
    if model is None:
        if len(_MODELS) > 16:
            _MODELS.clear()
        model = _MODELS[key] = engine.ScoreModel(card.model)
    return model


def published() -> Scorecard | None:
    return Scorecard.objects.filter(status=S.PUBLISHED).defer("model").first()


def _with_model(card: Scorecard) -> Scorecard:
    if (card.pk, card.number) in _MODELS:
        return card
    return Scorecard.objects.get(pk=card.pk)


def score_applications(
    applications: Sequence[Any],
    *,
    scorecard: Scorecard | None = None,
    admission_inputs: Sequence[dict[str, Any]] | None = None,
) -> list[ApplicationScore]:
    """Score applications with the published (or given) version and store the results.
    Re-scoring by the same version returns the stored score unchanged (idempotent)."""
    card = scorecard or published()
    apps = list(applications)
    if card is None or not apps:
        return []
    card = _with_model(card)
    model = score_model(card)
    rows = features.application_features(apps, admission_inputs=admission_inputs)
    new = [
        ApplicationScore(
            application_id=app.pk,
            scorecard=card,
            score=scored.score,
            grade=scored.grade,
            reasons=scored.reasons,
            points=scored.points,
            inputs=record,
        )
        for app, record, scored in zip(apps, rows, model.score_many(rows), strict=True)
    ]
    # One insert; an application this version already scored keeps its first row (the unique
    # constraint skips the new one), so re-scoring and concurrent submissions are idempotent.
    json_bulk_insert(new, SCORE_COLUMNS, ignore_conflicts=True)
    by_app = {s.application_id: s for s in new}
    stored = dict(
        ApplicationScore.objects.filter(
            scorecard=card, application_id__in=list(by_app)
        ).values_list("application_id", "id")
    )
    kept = [app_id for app_id, row in by_app.items() if stored.get(app_id) != row.pk]
    if kept:
        for row in ApplicationScore.objects.filter(scorecard=card, application_id__in=kept):
            by_app[row.application_id] = row
    return [by_app[a.pk] for a in apps if a.pk in by_app]


def score_application(
    application: Any, *, admission_input: dict[str, Any] | None = None
) -> ApplicationScore | None:
    """The score of one application at submission (None when no version is published);
    ``admission_input`` saves rebuilding what the submission already built."""
    scores = score_applications(
        [application], admission_inputs=[admission_input] if admission_input else None
    )
    return scores[0] if scores else None


def score_record(record: dict[str, Any], *, scorecard: Scorecard | None = None) -> engine.Scored:
    """Score feature values given directly (API what-if; nothing stored)."""
    card = scorecard or published()
    if card is None:
        raise InvalidState(_("还没有已发布的评分卡。"))
    return score_model(_with_model(card)).score(record)


def latest_score(application: Any) -> ApplicationScore | None:
    return (
        ApplicationScore.objects.filter(application=application)
        .select_related("scorecard")
        .order_by("-id")
        .first()
    )
