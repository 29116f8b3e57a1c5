"""Pure credit-scorecard engine: WOE binning, logistic regression, points scaling, scoring.

No Django here: numpy + scikit-learn only, so the engine can be tested and benchmarked without a
database. The Django side (models, services, CLI, UI) stores ``TrainResult.to_dict()`` as the
model and scores with ``ScoreModel(model_dict)``.

Conventions (standard credit-risk practice):

* target ``1`` = bad, ``0`` = good;
* WOE of a bin = ``ln((goods_i / G) / (bads_i / B))`` — positive means safer than average;
* the logistic regression is fit on WOE columns with ``y = bad``, so every coefficient should be
  ``≤ 0`` (a higher WOE lowers the bad odds); features with a positive coefficient are dropped;
* score = ``offset + factor · ln(good:bad odds)`` with ``factor = pdo / ln 2`` and
  ``offset = base_score − factor · ln(base_odds)``; the score of a record is the sum of the integer
  points of its bins (one bin per selected feature), higher = safer.

Messages of :class:`TrainingError` are Chinese and shown to users as they are.

The engine is a package of modules by step — ``values`` (constants, value parsing, WOE/IV),
``bins`` and ``binning`` (the bins of a feature, supervised binning), ``selection`` (screens and
the logistic fit), ``scaling`` (points), ``metrics``, ``training`` (:func:`train`), ``csvfile``
(reading a training CSV) and ``scoring`` (:class:`ScoreModel`). This package re-exports the
public names.
"""

from __future__ import annotations

from credo.scorecard.engine.binning import bin_categorical, bin_numeric
from credo.scorecard.engine.bins import Bin, FeatureBinning
from credo.scorecard.engine.csvfile import decode, read_csv, same_value
from credo.scorecard.engine.metrics import auc, grade_of, ks, psi, shares
from credo.scorecard.engine.scoring import Scored, ScoreModel
from credo.scorecard.engine.training import TrainConfig, TrainResult, train
from credo.scorecard.engine.values import (
    GRADES,
    MAX_OTHER_LISTED,
    MISSING_LABEL,
    MODEL_FORMAT,
    OTHER_LABEL,
    TrainingError,
    detect_kind,
    to_float_array,
    woe_iv,
)

__all__ = [
    "GRADES",
    "MAX_OTHER_LISTED",
    "MISSING_LABEL",
    "MODEL_FORMAT",
    "OTHER_LABEL",
    "Bin",
    "FeatureBinning",
    "ScoreModel",
    "Scored",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "auc",
    "bin_categorical",
    "bin_numeric",
    "decode",
    "detect_kind",
    "grade_of",
    "ks",
    "psi",
    "read_csv",
    "same_value",
    "shares",
    "to_float_array",
    "train",
    "woe_iv",
]
