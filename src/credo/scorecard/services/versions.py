"""Publishing and retiring versions; the model card."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.scorecard import states
from credo.scorecard.errors import InvalidState, StaleVersion
from credo.scorecard.models import Scorecard
from credo.scorecard.services.config import (
    _require,
)

S = Scorecard.Status


@transaction.atomic
def scorecard_publish(
    *, scorecard: Scorecard, actor: Any, expected_version: int | None = None
) -> Scorecard:
    """Draft → published; the previously published version is retired in the same transaction.
    Applications submitted from now on are scored by this version."""
    _require(actor, "scorecard.publish_scorecard")
    card = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if expected_version is not None and card.version != expected_version:
        raise StaleVersion(_("评分卡已被他人修改，请刷新后重试。"))
    if card.status != S.DRAFT:
        raise InvalidState(
            _("只有草稿状态的评分卡可以发布（当前：%(s)s）。") % {"s": card.get_status_display()}
        )
    previous = list(Scorecard.objects.select_for_update().filter(status=S.PUBLISHED))
    now = timezone.now()
    for old in previous:
        old.retired_at = now
        old.version += 1
        fsm.transition(old, S.RETIRED, update_fields=("retired_at", "version"))
        audit_record(action="scorecard.retired", actor=actor, obj=old, metadata={"by": card.pk})
    card.published_at, card.published_by = now, actor
    card.version += 1
    fsm.transition(card, S.PUBLISHED, update_fields=("published_at", "published_by", "version"))
    audit_record(
        action="scorecard.published",
        actor=actor,
        obj=card,
        changes={"status": [S.DRAFT, S.PUBLISHED]},
        metadata={"replaced": [old.pk for old in previous]},
    )
    return card


@transaction.atomic
def scorecard_retire(*, scorecard: Scorecard, actor: Any) -> Scorecard:
    """Stop scoring with a published version (or discard a draft / failed one)."""
    _require(actor, "scorecard.publish_scorecard")
    card = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if not states.SCORECARD_MACHINE.can(card.status, S.RETIRED):
        raise InvalidState(_("该评分卡当前状态不能停用。"))
    card.retired_at = timezone.now()
    card.version += 1
    before = fsm.transition(card, S.RETIRED, update_fields=("retired_at", "version"))
    audit_record(
        action="scorecard.retired", actor=actor, obj=card, changes={"status": [before, S.RETIRED]}
    )
    return card


def model_card(card: Scorecard) -> dict[str, Any]:
    """The model card as plain data (CLI ``--json`` and the API)."""
    model = card.model or {}
    metrics = model.get("metrics") or {}
    return {
        "version": card.number,
        "name": card.name,
        "status": card.status,
        "error": card.error,
        "source": card.source,
        "source_name": card.source_name,
        "rows": card.rows,
        "bads": card.bads,
        "seconds": card.training_seconds,
        "train": metrics.get("train"),
        "holdout": metrics.get("holdout"),
        "psi_holdout": metrics.get("psi_holdout"),
        "bands": metrics.get("bands"),
        "grade_cuts": model.get("grade_cuts"),
        "features": [
            {
                "name": f["name"],
                "iv": round(f["iv"], 4),
                "coefficient": (model.get("coefficients") or {}).get(f["name"]),
                "bins": [
                    {
                        "bin": b["label"],
                        "count": b["count"],
                        "bad_rate": b["bad_rate"],
                        "woe": b["woe"],
                        "points": b["points"],
                    }
                    for b in f["bins"]
                ],
            }
            for f in model.get("features") or []
        ],
        "dropped": model.get("dropped"),
        "notes": model.get("notes"),
    }
