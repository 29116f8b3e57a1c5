"""Scoring records with a trained model."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from credo.scorecard.engine.bins import FeatureBinning
from credo.scorecard.engine.metrics import grade_of
from credo.scorecard.engine.values import _cat_key, _parse_float

# --------------------------------------------------------------------------------------------
# Scoring


@dataclass
class Scored:
    score: int
    grade: str
    points: dict[str, int]
    reasons: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "grade": self.grade,
            "points": dict(self.points),
            "reasons": [dict(r) for r in self.reasons],
        }


_INF = math.inf


class ScoreModel:
    """Scores records with a trained model (``TrainResult.to_dict()`` or the stored JSON).

    ``score`` never raises on bad values: missing keys, None, "", unparseable numbers → the
    missing bin; unseen categories → the "其他" bin if the feature has one, else the missing bin.
    """

    def __init__(self, model: Mapping[str, Any]):
        self.model = model
        self.features = [FeatureBinning.from_dict(d) for d in model["features"]]
        self.grade_cuts = [int(c) for c in model["grade_cuts"]]
        labels = (model.get("config") or {}).get("labels") or {}
        self._plan: list[tuple[Any, ...]] = []
        for fb in self.features:
            miss, cuts, catmap, other = fb._prepare()
            pts = [int(b.points) for b in fb.bins]
            blabels = [b.label for b in fb.bins]
            label = fb.label or labels.get(fb.name) or fb.name
            self._plan.append(
                (
                    fb.name,
                    fb.kind == "numeric",
                    cuts,
                    catmap,
                    other if other is not None else miss,
                    miss,
                    pts,
                    max(pts),
                    blabels,
                    label,
                )
            )

    def score(self, record: Mapping[str, Any]) -> Scored:
        get = record.get
        total = 0
        points: dict[str, int] = {}
        losses: list[tuple[int, int, int]] = []
        for k, (name, numeric, cuts, catmap, default, miss, pts, maxp, _, _) in enumerate(
            self._plan
        ):
            v = get(name)
            if v is None:
                i = miss
            elif numeric:
                t = type(v)
                if t is float or t is int:
                    i = miss if (v != v or v == _INF or v == -_INF) else bisect_right(cuts, v)
                else:
                    f = _parse_float(v)
                    i = miss if f != f else bisect_right(cuts, f)
            else:
                if type(v) is str:
                    key: str | None = v.strip() or None
                else:
                    key = _cat_key(v)
                i = miss if key is None else catmap.get(key, default)
            p = pts[i]
            points[name] = p
            total += p
            lost = maxp - p
            if lost > 0:
                losses.append((-lost, k, i))
        losses.sort()
        reasons = []
        for neg, k, i in losses[:3]:
            plan = self._plan[k]
            reasons.append(
                {
                    "feature": plan[0],
                    "label": plan[9],
                    "bin": plan[8][i],
                    "points": plan[6][i],
                    "lost": -neg,
                }
            )
        return Scored(total, grade_of(total, self.grade_cuts), points, reasons)

    def score_many(self, records: Iterable[Mapping[str, Any]]) -> list[Scored]:
        return [self.score(r) for r in records]
