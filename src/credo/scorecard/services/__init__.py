"""Scorecard services: train (queued or in-process), publish/retire, score applications, PSI.

Training never holds a transaction open: the version row is created as ``training`` and the
job writes progress to it in small updates, then the result (or the error) in one save.

Submodules by use case — ``config`` (training parameters, limits, permission check),
``training``, ``versions`` (publish, retire, model card), ``scoring`` and ``stability`` (PSI).
This package re-exports the public services.
"""

from __future__ import annotations

from credo.scorecard.services.config import (
    CONFIG_LIMITS,
    OUTCOME_LIMITS,
    clean_config,
    max_upload_bytes,
    psi_alert_limit,
)
from credo.scorecard.services.scoring import (
    SCORE_COLUMNS,
    latest_score,
    published,
    score_application,
    score_applications,
    score_model,
    score_record,
)
from credo.scorecard.services.stability import psi_check
from credo.scorecard.services.training import (
    scorecard_train_run,
    scorecard_train_start,
    scorecard_train_table,
    train_columns,
)
from credo.scorecard.services.versions import model_card, scorecard_publish, scorecard_retire

__all__ = [
    "CONFIG_LIMITS",
    "OUTCOME_LIMITS",
    "SCORE_COLUMNS",
    "clean_config",
    "latest_score",
    "max_upload_bytes",
    "model_card",
    "psi_alert_limit",
    "psi_check",
    "published",
    "score_application",
    "score_applications",
    "score_model",
    "score_record",
    "scorecard_publish",
    "scorecard_retire",
    "scorecard_train_run",
    "scorecard_train_start",
    "scorecard_train_table",
    "train_columns",
]
