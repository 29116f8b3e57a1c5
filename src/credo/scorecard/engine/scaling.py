"""Points scaling: ``score = offset + factor · ln(good:bad odds)``, ``factor = pdo / ln 2``,
``offset = base_score − factor · ln(base_odds)``; the points of every bin of every selected
feature and the score of every row."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from credo.scorecard.engine.bins import FeatureBinning


@dataclass
class Scaled:
    factor: float
    offset: float
    coefficients: dict[str, float]
    scores: np.ndarray  # the integer score of every row


def scale_points(
    selected: list[FeatureBinning],
    coefs: np.ndarray,
    intercept: float,
    index_of: Mapping[str, np.ndarray],
    n: int,
    *,
    pdo: float,
    base_score: float,
    base_odds: float,
) -> Scaled:
    """Set ``points`` on every bin of ``selected`` (the intercept shared equally) and score the
    ``n`` rows (``index_of``: bin index per row and feature)."""
    factor = pdo / math.log(2)
    offset = base_score - factor * math.log(base_odds)
    share = (offset - factor * intercept) / len(selected)
    coefficients: dict[str, float] = {}
    scores = np.zeros(n, dtype=np.int64)
    for fb, c in zip(selected, coefs, strict=True):
        coefficients[fb.name] = float(c)
        for b in fb.bins:
            b.points = int(round(-factor * float(c) * b.woe + share))
        pts = np.array([b.points for b in fb.bins], dtype=np.int64)
        scores += pts[index_of[fb.name]]
    return Scaled(factor, offset, coefficients, scores)
