"""Discrimination and stability metrics: grades, AUC, KS, score shares and PSI; the metrics a
training run reports."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from credo.scorecard.engine.values import GRADES

# --------------------------------------------------------------------------------------------
# Metrics


def grade_of(score: float, cuts: Sequence[int]) -> str:
    """``score ≥ cuts[0]`` → A, ``≥ cuts[1]`` → B, … else the next letter (E for 4 cuts)."""
    for i, c in enumerate(cuts):
        if score >= c:
            return GRADES[i]
    return GRADES[len(cuts)] if len(cuts) < len(GRADES) else GRADES[-1]


def auc(y: Any, scores: Any) -> float:
    """AUC of the score as a predictor of bad (lower score = riskier): ``roc_auc_score(y, -s)``.
    0.5 if ``y`` has a single class."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y)
    if y.size == 0 or np.unique(y).size < 2:
        return 0.5
    return float(roc_auc_score(y, -np.asarray(scores, dtype=float)))


def ks(y: Any, scores: Any) -> float:
    """Kolmogorov–Smirnov statistic: ``max |TPR − FPR|`` over all score cut-offs."""
    from sklearn.metrics import roc_curve

    y = np.asarray(y)
    if y.size == 0 or np.unique(y).size < 2:
        return 0.0
    fpr, tpr, _ = roc_curve(y, -np.asarray(scores, dtype=float))
    return float(np.max(np.abs(tpr - fpr)))


def shares(scores: Sequence[float], edges: Sequence[float]) -> list[float]:
    """Share of scores per band; band ``k`` is ``edges[k-1] ≤ s < edges[k]`` (``len(edges)+1``
    bands)."""
    s = np.asarray(scores, dtype=float)
    k = len(edges) + 1
    if s.size == 0:
        return [0.0] * k
    idx = np.searchsorted(np.asarray(edges, dtype=float), s, side="right")
    return [float(v) for v in np.bincount(idx, minlength=k) / s.size]


def psi(expected_shares: Sequence[float], actual_shares: Sequence[float]) -> float:
    """Population stability index ``Σ (a − e) · ln(a / e)``, shares floored at 1e-4."""
    total = 0.0
    for e, a in zip(expected_shares, actual_shares, strict=True):
        e = max(float(e), 1e-4)
        a = max(float(a), 1e-4)
        total += (a - e) * math.log(a / e)
    return total


def _grade_cuts_from(scores: np.ndarray) -> list[int]:
    qs = np.quantile(scores, [0.8, 0.6, 0.4, 0.2])
    cuts = [int(round(float(q))) for q in qs]
    for i in range(1, len(cuts)):
        if cuts[i] >= cuts[i - 1]:
            cuts[i] = cuts[i - 1] - 1
    return cuts


def _band_metrics(scores: np.ndarray, y: np.ndarray, cuts: Sequence[int]) -> list[dict[str, Any]]:
    """Per grade: the band's score range (``min`` inclusive, ``max`` inclusive, None = open) and
    the observed count, bads and bad rate."""
    out = []
    ncuts = len(cuts)
    for i in range(ncuts + 1):
        lo = cuts[i] if i < ncuts else None
        hi = cuts[i - 1] - 1 if i > 0 else None
        mask = np.ones(scores.size, dtype=bool)
        if lo is not None:
            mask &= scores >= lo
        if hi is not None:
            mask &= scores <= hi
        n = int(mask.sum())
        b = int(y[mask].sum())
        out.append(
            {
                "grade": GRADES[min(i, len(GRADES) - 1)],
                "min": lo,
                "max": hi,
                "n": n,
                "bads": b,
                "bad_rate": round(b / n, 6) if n else 0.0,
            }
        )
    return out


def _split_metrics(y: np.ndarray, s: np.ndarray) -> dict[str, Any]:
    a = auc(y, s)
    return {
        "n": int(y.size),
        "bads": int(y.sum()),
        "auc": round(a, 6),
        "ks": round(ks(y, s), 6),
        "gini": round(2 * a - 1, 6),
    }


def _distribution(train_s: np.ndarray, hold_s: np.ndarray, nbins: int = 20) -> dict[str, Any]:
    both = np.concatenate([train_s, hold_s])
    lo, hi = int(both.min()), int(both.max())
    step = max(1, math.ceil((hi - lo + 1) / nbins))
    edges = [lo + step * i for i in range(nbins + 1) if lo + step * (i - 1) <= hi]
    if len(edges) < 2:
        edges = [lo, lo + 1]
    # bins [e_k, e_k+1), the last one closed
    e = np.asarray(edges, dtype=float)

    def counts(s: np.ndarray) -> list[int]:
        idx = np.clip(np.searchsorted(e, s, side="right") - 1, 0, len(edges) - 2)
        return [int(v) for v in np.bincount(idx, minlength=len(edges) - 1)]

    return {"edges": [int(v) for v in edges], "train": counts(train_s), "holdout": counts(hold_s)}


def evaluate(
    scores: np.ndarray,
    y: np.ndarray,
    tr: np.ndarray,
    ho: np.ndarray,
    grade_cuts: Sequence[int] | None,
) -> tuple[list[int], dict[str, Any]]:
    """Grade cuts (given, or the training-score quintiles) and the metrics of a training run:
    training and holdout AUC/KS/Gini, bands, score distribution, the PSI baseline."""
    y_tr = y[tr]
    s_tr = scores[tr].astype(float)
    s_ho = scores[ho].astype(float) if ho.size else s_tr
    y_ho = y[ho] if ho.size else y_tr
    cuts = [int(c) for c in grade_cuts] if grade_cuts else _grade_cuts_from(s_tr)
    psi_edges = [float(v) for v in np.quantile(s_tr, np.linspace(0.1, 0.9, 9))]
    base_shares = shares(s_tr, psi_edges)
    metrics = {
        "train": _split_metrics(y_tr, s_tr),
        "holdout": _split_metrics(y_ho, s_ho),
        "bands": _band_metrics(s_ho, y_ho, cuts),
        "distribution": _distribution(s_tr, s_ho if ho.size else s_tr[:0]),
        "psi_baseline": {"edges": psi_edges, "shares": base_shares},
        "psi_holdout": round(psi(base_shares, shares(s_ho, psi_edges)), 6),
    }
    return cuts, metrics
