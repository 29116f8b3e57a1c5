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
"""

from __future__ import annotations

import csv
import io
import math
import os
import time
import warnings
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import IO, Any

import numpy as np

MISSING_LABEL = "缺失"
OTHER_LABEL = "其他"
GRADES = "ABCDE"
MAX_OTHER_LISTED = 100  # rare categories listed in the "其他" bin (all of them go there anyway)
MODEL_FORMAT = 1


class TrainingError(ValueError):
    """Training cannot proceed; the (Chinese) message is shown to users as is."""


# --------------------------------------------------------------------------------------------
# Values


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    if isinstance(v, str):
        return not v.strip()
    return False


def _parse_float(v: Any) -> float:
    """Float of ``v`` or NaN (missing, unparseable or infinite)."""
    if v is None:
        return math.nan
    if isinstance(v, (int, float)):
        f = float(v)
    else:
        try:
            f = float(str(v).strip().replace(",", ""))
        except (TypeError, ValueError):
            return math.nan
    return f if math.isfinite(f) else math.nan


def _cat_key(v: Any) -> str | None:
    """Normalised category of ``v`` (``None`` = missing). ``1``, ``1.0`` and ``"1"`` are the same."""
    if v is None:
        return None
    if isinstance(v, str):
        s = v.strip()
        return s or None
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        if v != v:
            return None
        if v.is_integer():
            return str(int(v))
        return repr(v)
    s = str(v).strip()
    return s or None


def to_float_array(values: Any) -> np.ndarray:
    """Float array of ``values``: NaN for missing (None, "", NaN), unparseable or infinite values."""
    return _to_float_counting(values)[0]


def _to_float_counting(values: Any) -> tuple[np.ndarray, int]:
    """(float array, number of present but unparseable values)."""
    try:
        arr = np.asarray(values, dtype=float)
        if arr.ndim != 1:
            raise ValueError
    except (TypeError, ValueError):
        out = np.fromiter((_parse_float(v) for v in values), dtype=float)
        bad = 0
        if np.isnan(out).any():
            bad = sum(1 for v, f in zip(values, out, strict=True) if f != f and not _is_missing(v))
        return out, bad
    arr = arr.copy()
    arr[~np.isfinite(arr)] = np.nan
    return arr, 0


def detect_kind(values: Sequence[Any]) -> str:
    """``"numeric"`` if ≥95 % of the non-missing values parse as float and there are at least 2
    distinct ones, else ``"categorical"``."""
    try:
        arr = np.asarray(values, dtype=float)
        if arr.ndim == 1:
            arr = arr[np.isfinite(arr)]
            return "numeric" if np.unique(arr).size >= 2 else "categorical"
    except (TypeError, ValueError):
        pass
    present = [v for v in values if not _is_missing(v)]
    if not present:
        return "categorical"
    allowed = 0.05 * len(present)
    failures = 0
    parsed: set[float] = set()
    for v in present:
        f = _parse_float(v)
        if f != f:
            failures += 1
            if failures > allowed:
                return "categorical"
        elif len(parsed) < 2:
            parsed.add(f)
    return "numeric" if len(parsed) >= 2 else "categorical"


def _fmt(v: float) -> str:
    """Compact number for bin labels: 35000, 3.5, 0.1235."""
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if abs(v) >= 1e-3:
        s = f"{v:.4f}".rstrip("0").rstrip(".")
        return s
    return f"{v:.4g}"


# --------------------------------------------------------------------------------------------
# WOE / IV


def woe_iv(
    goods: Sequence[int], bads: Sequence[int], smoothing: float = 0.5
) -> tuple[list[float], list[float], float]:
    """Weight of evidence and information value per bin.

    ``G = Σ goods``, ``B = Σ bads`` (the column totals, never smoothed). For bin ``i``:

    * ``WOE_i = ln((g_i / G) / (b_i / B))`` — positive = safer than average;
    * ``IV_i = (g_i / G − b_i / B) · WOE_i`` (always ≥ 0);
    * if ``g_i == 0`` or ``b_i == 0`` (but not both), ``smoothing`` is added to both ``g_i`` and
      ``b_i`` of that bin only (``G`` and ``B`` stay the totals), so the WOE stays finite;
    * an empty bin (``g_i == b_i == 0``) gets WOE 0 and IV 0 (neutral).

    Returns ``(woes, ivs, total_iv)``. If ``G`` or ``B`` is 0 everything is 0.
    """
    g_tot = float(sum(goods))
    b_tot = float(sum(bads))
    woes: list[float] = []
    ivs: list[float] = []
    for gi, bi in zip(goods, bads, strict=True):
        g = float(gi)
        b = float(bi)
        if g_tot <= 0 or b_tot <= 0 or (g == 0 and b == 0):
            woes.append(0.0)
            ivs.append(0.0)
            continue
        if g == 0 or b == 0:
            g += smoothing
            b += smoothing
        pg = g / g_tot
        pb = b / b_tot
        w = math.log(pg / pb)
        woes.append(w)
        ivs.append((pg - pb) * w)
    return woes, ivs, float(sum(ivs))


# --------------------------------------------------------------------------------------------
# Binning


@dataclass
class Bin:
    label: str
    lo: float | None = None  # numeric: lower edge inclusive (None = -inf)
    hi: float | None = None  # numeric: upper edge exclusive (None = +inf)
    categories: list[str] | None = None  # categorical members
    missing: bool = False
    other: bool = False  # categorical catch-all (rare categories, unseen ones at scoring)
    count: int = 0
    bads: int = 0
    goods: int = 0
    bad_rate: float = 0.0
    woe: float = 0.0
    iv: float = 0.0
    points: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "lo": None if self.lo is None else float(self.lo),
            "hi": None if self.hi is None else float(self.hi),
            "categories": None if self.categories is None else [str(c) for c in self.categories],
            "missing": bool(self.missing),
            "other": bool(self.other),
            "count": int(self.count),
            "bads": int(self.bads),
            "goods": int(self.goods),
            "bad_rate": _jf(self.bad_rate),
            "woe": _jf(self.woe),
            "iv": _jf(self.iv),
            "points": int(self.points),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Bin:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def _jf(v: Any) -> float:
    f = float(v)
    return f if math.isfinite(f) else 0.0


@dataclass
class FeatureBinning:
    name: str
    kind: str  # "numeric" | "categorical"
    bins: list[Bin]  # ordered; always exactly one missing bin, last
    iv: float
    trend: str = ""  # numeric: "asc" (bad rate rises with x) / "desc" / ""
    note: str = ""
    label: str = ""  # human label (Chinese), "" = use name
    _cache: Any = field(default=None, init=False, repr=False, compare=False)

    # -- lookup --------------------------------------------------------------------------
    def _prepare(self) -> Any:
        if self._cache is None:
            miss = next(i for i, b in enumerate(self.bins) if b.missing)
            if self.kind == "numeric":
                regular = [b for b in self.bins if not b.missing]
                cuts = [float(b.lo) for b in regular[1:] if b.lo is not None]
                self._cache = (miss, cuts, None, None)
            else:
                catmap: dict[str, int] = {}
                other: int | None = None
                for i, b in enumerate(self.bins):
                    if b.other:
                        other = i
                    for c in b.categories or ():
                        catmap[c] = i
                self._cache = (miss, None, catmap, other)
        return self._cache

    @property
    def missing_index(self) -> int:
        return int(self._prepare()[0])

    def display_name(self) -> str:
        return self.label or self.name

    def index(self, value: Any) -> int:
        """Index of the bin of ``value``: None/NaN/"" → missing bin; numeric by edges
        (unparseable → missing); categorical: member bin, else the other bin if any, else the
        missing bin."""
        miss, cuts, catmap, other = self._prepare()
        if self.kind == "numeric":
            f = _parse_float(value)
            if f != f:
                return miss
            return bisect_right(cuts, f)
        key = _cat_key(value)
        if key is None:
            return miss
        i = catmap.get(key)
        if i is not None:
            return i
        return other if other is not None else miss

    def indices(self, values: Sequence[Any]) -> np.ndarray:
        """Vectorised :meth:`index`."""
        miss, cuts, catmap, other = self._prepare()
        if self.kind == "numeric":
            x = to_float_array(values)
            idx = np.searchsorted(np.asarray(cuts, dtype=float), x, side="right")
            idx[np.isnan(x)] = miss
            return idx.astype(np.int64)
        keys = [_cat_key(v) for v in values]
        return _cat_indices(keys, catmap, other, miss)

    def woe_of(self, values: Sequence[Any]) -> np.ndarray:
        woes = np.array([b.woe for b in self.bins], dtype=float)
        return woes[self.indices(values)]

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "label": self.label,
            "bins": [b.to_dict() for b in self.bins],
            "iv": _jf(self.iv),
            "trend": self.trend,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FeatureBinning:
        return cls(
            name=d["name"],
            kind=d["kind"],
            bins=[Bin.from_dict(b) for b in d["bins"]],
            iv=float(d.get("iv", 0.0)),
            trend=d.get("trend", ""),
            note=d.get("note", ""),
            label=d.get("label", ""),
        )


def _cat_indices(
    keys: Sequence[str | None], catmap: Mapping[str, int], other: int | None, miss: int
) -> np.ndarray:
    default = other if other is not None else miss
    get = catmap.get
    return np.fromiter(
        (miss if k is None else get(k, default) for k in keys), dtype=np.int64, count=len(keys)
    )


def _fill_stats(bins: list[Bin]) -> float:
    woes, ivs, total = woe_iv([b.goods for b in bins], [b.bads for b in bins])
    for b, w, v in zip(bins, woes, ivs, strict=True):
        b.woe = w
        b.iv = v
        b.bad_rate = b.bads / b.count if b.count else 0.0
    return total


def _pava(goods: list[float], bads: list[float], asc: bool) -> list[list[int]]:
    """Pool adjacent violators: groups (lists of pre-bin indices) with monotonic bad rate."""
    groups: list[list[Any]] = []  # [members, goods, bads]
    for i, (g, b) in enumerate(zip(goods, bads, strict=True)):
        groups.append([[i], g, b])
        while len(groups) >= 2:
            m1, g1, b1 = groups[-2]
            m2, g2, b2 = groups[-1]
            r1 = b1 / (g1 + b1)
            r2 = b2 / (g2 + b2)
            if (r1 >= r2) if asc else (r1 <= r2):
                groups[-2:] = [[m1 + m2, g1 + g2, b1 + b2]]
            else:
                break
    return [grp[0] for grp in groups]


def _rate(g: float, b: float) -> float:
    return b / (g + b) if g + b else 0.0


def bin_numeric(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    max_bins: int = 6,
    min_bin_share: float = 0.05,
    monotonic: bool = True,
) -> FeatureBinning:
    """Supervised binning of a numeric feature (``x`` float with NaN = missing, ``y`` 1 = bad).

    Pre-bins at unique quantile cuts (≤ 20 bins, cut values are data values), then, if
    ``monotonic``, pools adjacent bins until the bad rate is monotonic in the direction with the
    better IV; merges bins smaller than ``min_bin_share`` of the non-missing rows into the
    neighbour with the closest bad rate; merges the adjacent pair with the smallest bad-rate
    difference until at most ``max_bins`` bins (the missing bin excluded). Bin ``k`` covers
    ``[lo, hi)``; the first has ``lo=None`` and the last ``hi=None``. Missing values get the
    missing bin (always present and last; count 0 and WOE 0 if there were none).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y).astype(np.int64)
    present = ~np.isnan(x)
    xs = x[present]
    ys = y[present]
    n_miss = int((~present).sum())
    b_miss = int(y[~present].sum())
    miss_bin = Bin(
        label=MISSING_LABEL, missing=True, count=n_miss, bads=b_miss, goods=n_miss - b_miss
    )
    if xs.size == 0:
        only = [miss_bin]
        return FeatureBinning(name, "numeric", only, _fill_stats(only), note="全部缺失")

    qs = np.quantile(xs, np.linspace(0, 1, 21)[1:-1], method="lower")
    xmin = float(xs.min())
    cuts = np.unique(qs[qs > xmin])
    idx = np.searchsorted(cuts, xs, side="right")
    k = cuts.size + 1
    cnt = np.bincount(idx, minlength=k).astype(float)
    bad = np.bincount(idx, weights=ys, minlength=k).astype(float)
    good = cnt - bad

    # segments: list of [start pre-bin, goods, bads]; the cut before segment j is cuts[start-1]
    segs: list[list[float]] = [[i, float(good[i]), float(bad[i])] for i in range(k)]

    def merge(segments: list[list[float]], j: int) -> None:
        """Merge segment j+1 into segment j."""
        a, c = segments[j], segments[j + 1]
        segments[j : j + 2] = [[a[0], a[1] + c[1], a[2] + c[2]]]

    trend = ""
    if monotonic and len(segs) > 1:
        best: tuple[float, int, str, list[list[float]]] | None = None
        for asc in (True, False):
            groups = _pava([s[1] for s in segs], [s[2] for s in segs], asc)
            cand = [[float(g[0]), sum(good[i] for i in g), sum(bad[i] for i in g)] for g in groups]
            gs = [s[1] for s in cand] + [float(n_miss - b_miss)]
            bs = [s[2] for s in cand] + [float(b_miss)]
            iv = woe_iv(gs, bs)[2]
            key = (iv, len(cand), "asc" if asc else "desc", cand)
            if best is None or (iv, len(cand)) > (best[0], best[1]):
                best = key
        assert best is not None
        segs = best[3]
        trend = best[2] if len(segs) > 1 else ""

    # small bins
    n_present = float(xs.size)
    min_count = min_bin_share * n_present
    while len(segs) > 1:
        sizes = [s[1] + s[2] for s in segs]
        j = int(np.argmin(sizes))
        if sizes[j] >= min_count:
            break
        r = _rate(segs[j][1], segs[j][2])
        if j == 0:
            merge(segs, 0)
        elif j == len(segs) - 1:
            merge(segs, j - 1)
        else:
            left = abs(_rate(segs[j - 1][1], segs[j - 1][2]) - r)
            right = abs(_rate(segs[j + 1][1], segs[j + 1][2]) - r)
            merge(segs, j - 1 if left <= right else j)

    # at most max_bins
    while len(segs) > max(1, max_bins):
        diffs = [
            abs(_rate(segs[j][1], segs[j][2]) - _rate(segs[j + 1][1], segs[j + 1][2]))
            for j in range(len(segs) - 1)
        ]
        merge(segs, int(np.argmin(diffs)))

    bins: list[Bin] = []
    for j, s in enumerate(segs):
        lo = None if j == 0 else float(cuts[int(s[0]) - 1])
        hi = None if j == len(segs) - 1 else float(cuts[int(segs[j + 1][0]) - 1])
        if lo is None and hi is None:
            label = "全部"
        elif lo is None:
            label = f"< {_fmt(hi)}"  # type: ignore[arg-type]
        elif hi is None:
            label = f"≥ {_fmt(lo)}"
        else:
            label = f"[{_fmt(lo)}, {_fmt(hi)})"
        g, b = int(round(s[1])), int(round(s[2]))
        bins.append(Bin(label=label, lo=lo, hi=hi, count=g + b, bads=b, goods=g))
    bins.append(miss_bin)
    iv = _fill_stats(bins)
    if not monotonic and len(segs) > 1:
        rates = [b.bad_rate for b in bins[:-1]]
        if all(a <= c for a, c in zip(rates, rates[1:], strict=False)):
            trend = "asc"
        elif all(a >= c for a, c in zip(rates, rates[1:], strict=False)):
            trend = "desc"
    return FeatureBinning(name, "numeric", bins, iv, trend=trend)


def _cat_label(cats: Sequence[str]) -> str:
    if len(cats) <= 6:
        return "、".join(cats)
    return "、".join(cats[:5]) + f" 等 {len(cats)} 项"


def _bin_categorical_keys(
    name: str,
    keys: Sequence[str | None],
    y: np.ndarray,
    *,
    max_bins: int,
    min_bin_share: float,
) -> FeatureBinning:
    y = np.asarray(y).astype(np.int64)
    arr = np.array(["" if k is None else k for k in keys], dtype=object)
    uniq, inv = np.unique(arr.astype(str), return_inverse=True)
    inv = inv.reshape(-1)
    cnt = np.bincount(inv, minlength=uniq.size)
    bad = np.bincount(inv, weights=y, minlength=uniq.size)
    stats: dict[str, tuple[int, int]] = {}
    n_miss = b_miss = 0
    for u, c, b in zip(uniq.tolist(), cnt.tolist(), bad.tolist(), strict=True):
        if u == "":
            n_miss, b_miss = int(c), int(round(b))
        else:
            stats[u] = (int(c), int(round(b)))
    miss_bin = Bin(
        label=MISSING_LABEL, missing=True, count=n_miss, bads=b_miss, goods=n_miss - b_miss
    )
    n_present = sum(c for c, _ in stats.values())
    min_count = min_bin_share * n_present
    rare = sorted(k for k, (c, _) in stats.items() if c < min_count)
    common = [k for k in stats if stats[k][0] >= min_count]
    # groups: [categories, count, bads]
    groups: list[list[Any]] = [[[k], stats[k][0], stats[k][1]] for k in common]
    groups.sort(key=lambda g: (g[2] / g[1], g[0][0]))
    limit = max(1, max_bins - (1 if rare else 0))
    while len(groups) > limit:
        diffs = [
            abs(groups[j][2] / groups[j][1] - groups[j + 1][2] / groups[j + 1][1])
            for j in range(len(groups) - 1)
        ]
        j = int(np.argmin(diffs))
        a, c = groups[j], groups[j + 1]
        groups[j : j + 2] = [[a[0] + c[0], a[1] + c[1], a[2] + c[2]]]
    bins: list[Bin] = []
    for cats, c, b in groups:
        cats = sorted(cats)
        bins.append(Bin(label=_cat_label(cats), categories=cats, count=c, bads=b, goods=c - b))
    if rare:
        c = sum(stats[k][0] for k in rare)
        b = sum(stats[k][1] for k in rare)
        # unseen categories land in this bin anyway: keep at most MAX_OTHER_LISTED names
        bins.append(
            Bin(
                label=OTHER_LABEL,
                categories=rare[:MAX_OTHER_LISTED],
                other=True,
                count=c,
                bads=b,
                goods=c - b,
            )
        )
    bins.append(miss_bin)
    iv = _fill_stats(bins)
    note = ""
    if rare:
        note = f"{len(rare)} 个占比低于 {min_bin_share:.0%} 的取值合并为“{OTHER_LABEL}”"
    return FeatureBinning(name, "categorical", bins, iv, note=note)


def bin_categorical(
    name: str,
    x: Sequence[Any],
    y: Any,
    *,
    max_bins: int = 6,
    min_bin_share: float = 0.05,
) -> FeatureBinning:
    """Binning of a categorical feature: categories with a share below ``min_bin_share`` of the
    non-missing rows go to one "其他" bin (``other=True``, also used for unseen categories at
    scoring); the others are sorted by bad rate and the adjacent pair with the smallest bad-rate
    difference is merged until at most ``max_bins`` bins (missing bin excluded, "其他" included)."""
    keys = [_cat_key(v) for v in x]
    return _bin_categorical_keys(name, keys, y, max_bins=max_bins, min_bin_share=min_bin_share)


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


# --------------------------------------------------------------------------------------------
# Training


@dataclass
class TrainConfig:
    base_score: int = 600
    base_odds: float = 50.0  # good:bad odds at base_score
    pdo: float = 20.0
    max_bins: int = 6
    min_bin_share: float = 0.05
    min_iv: float = 0.02
    max_corr: float = 0.7
    max_features: int = 15
    holdout: float = 0.3
    seed: int = 42
    grade_cuts: list[int] | None = None  # 4 descending scores; None → training-score quintiles
    labels: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise :class:`TrainingError` (Chinese) for parameters out of range."""
        if not self.pdo > 0:
            raise TrainingError("PDO（翻倍分）必须大于 0")
        if not self.base_odds > 0:
            raise TrainingError("基准好坏比必须大于 0")
        if not 0 <= self.holdout < 1:
            raise TrainingError("验证集比例必须在 0 到 1 之间（不含 1）")
        if self.max_bins < 2:
            raise TrainingError("每个特征的最大分箱数至少为 2")
        if not 0 <= self.min_bin_share < 0.5:
            raise TrainingError("最小分箱占比必须在 0 到 0.5 之间")
        if not 0 < self.max_corr <= 1:
            raise TrainingError("相关系数阈值必须在 0 到 1 之间")
        if self.max_features < 1:
            raise TrainingError("最多入模特征数至少为 1")
        if self.min_iv < 0:
            raise TrainingError("IV 阈值不能为负数")
        if self.grade_cuts is not None:
            cuts = list(self.grade_cuts)
            if len(cuts) != 4 or any(a <= b for a, b in zip(cuts, cuts[1:], strict=False)):
                raise TrainingError("等级分数线必须是 4 个从高到低的分数")

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_score": int(self.base_score),
            "base_odds": float(self.base_odds),
            "pdo": float(self.pdo),
            "max_bins": int(self.max_bins),
            "min_bin_share": float(self.min_bin_share),
            "min_iv": float(self.min_iv),
            "max_corr": float(self.max_corr),
            "max_features": int(self.max_features),
            "holdout": float(self.holdout),
            "seed": int(self.seed),
            "grade_cuts": None if self.grade_cuts is None else [int(c) for c in self.grade_cuts],
            "labels": {str(k): str(v) for k, v in self.labels.items()},
            "kinds": {str(k): str(v) for k, v in self.kinds.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        data = {k: v for k, v in (d or {}).items() if k in names}
        cfg = cls(**data)
        if cfg.labels is None:
            cfg.labels = {}
        if cfg.kinds is None:
            cfg.kinds = {}
        return cfg


@dataclass
class TrainResult:
    features: list[FeatureBinning]
    candidates: list[FeatureBinning]
    dropped: list[dict[str, Any]]
    intercept: float
    coefficients: dict[str, float]
    factor: float
    offset: float
    grade_cuts: list[int]
    metrics: dict[str, Any]
    rows: int
    bads: int
    notes: list[str]
    config: TrainConfig = field(default_factory=TrainConfig)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase; not in to_dict

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "config": self.config.to_dict(),
            "features": [f.to_dict() for f in self.features],
            "candidates": [f.to_dict() for f in self.candidates],
            "dropped": [dict(d) for d in self.dropped],
            "intercept": float(self.intercept),
            "coefficients": {k: float(v) for k, v in self.coefficients.items()},
            "factor": float(self.factor),
            "offset": float(self.offset),
            "grade_cuts": [int(c) for c in self.grade_cuts],
            "metrics": self.metrics,
            "rows": int(self.rows),
            "bads": int(self.bads),
            "notes": list(self.notes),
        }


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


def _fit_logit(X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lr = LogisticRegression(solver="lbfgs", C=1e6, max_iter=1000)
        lr.fit(X, y)
    return float(lr.intercept_[0]), lr.coef_[0].astype(float)


def train(
    columns: Mapping[str, Sequence[Any]],
    target: Sequence[int],
    config: TrainConfig | None = None,
) -> TrainResult:
    """Train a scorecard on ``columns`` (feature name → values) and ``target`` (1 = bad, 0 = good).

    Steps: stratified holdout split; binning of every feature on the training rows (kind detected
    unless ``config.kinds`` forces it); all-missing and single-valued features dropped; IV ≥
    ``min_iv``; of any pair with ``|r| > max_corr`` (training WOE) the lower-IV one dropped; top
    ``max_features`` by IV; logistic regression on the WOE columns, dropping the most positive
    coefficient and refitting until all are ≤ 0; points scaling; metrics.
    """
    from sklearn.model_selection import train_test_split

    cfg = config or TrainConfig()
    cfg.validate()
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    y = np.asarray(list(target) if not isinstance(target, np.ndarray) else target)
    if y.ndim != 1:
        raise TrainingError("目标列格式不正确")
    try:
        y = y.astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise TrainingError("目标列只能是 0（好）或 1（坏）") from exc
    n = int(y.size)
    values_set = set(np.unique(y).tolist())
    if not values_set <= {0, 1}:
        raise TrainingError("目标列只能是 0（好）或 1（坏）")
    if len(values_set) < 2:
        raise TrainingError("目标列只有一个取值，无法训练")
    n_bad = int(y.sum())
    n_good = n - n_bad
    if n < 50:
        raise TrainingError(f"样本只有 {n} 行，至少需要 50 行")
    if n_bad < 10 or n_good < 10:
        raise TrainingError(f"坏样本 {n_bad} 个、好样本 {n_good} 个，各至少需要 10 个")
    for name, vals in columns.items():
        if len(vals) != n:
            raise TrainingError(f"特征“{name}”的行数（{len(vals)}）与目标列（{n}）不一致")
    if not columns:
        raise TrainingError("没有可用的特征：数据中除目标列外没有其他列")

    labels = cfg.labels or {}

    def lab(name: str) -> str:
        return labels.get(name) or name

    notes: list[str] = []
    all_idx = np.arange(n)
    if 0 < cfg.holdout < 1:
        tr, ho = train_test_split(all_idx, test_size=cfg.holdout, stratify=y, random_state=cfg.seed)
        tr = np.sort(tr)
        ho = np.sort(ho)
    else:
        tr, ho = all_idx, all_idx[:0]
        notes.append("未留出验证集，验证指标按训练集计算")
    y_tr = y[tr]
    timings["prepare"] = time.perf_counter() - t0

    # -- binning ------------------------------------------------------------------------
    t1 = time.perf_counter()
    candidates: list[FeatureBinning] = []
    dropped: list[dict[str, Any]] = []
    index_of: dict[str, np.ndarray] = {}
    for name, vals in columns.items():
        kind = cfg.kinds.get(name) or detect_kind(vals)
        if kind == "numeric":
            x, n_unparsed = _to_float_counting(vals)
            xt = x[tr]
            present = xt[~np.isnan(xt)]
            if present.size == 0:
                dropped.append({"name": name, "reason": "全部缺失"})
                notes.append(f"特征“{lab(name)}”全部缺失，已剔除")
                continue
            if np.unique(present).size < 2:
                dropped.append({"name": name, "reason": "只有一个取值"})
                continue
            fb = bin_numeric(name, xt, y_tr, max_bins=cfg.max_bins, min_bin_share=cfg.min_bin_share)
            if n_unparsed:
                fb.note = f"{n_unparsed} 个无法识别为数字的值按缺失处理"
            miss, cuts, _, _ = fb._prepare()
            idx = np.searchsorted(np.asarray(cuts, dtype=float), x, side="right")
            idx[np.isnan(x)] = miss
        else:
            kind = "categorical"
            keys = [_cat_key(v) for v in vals]
            keys_tr = [keys[i] for i in tr.tolist()]
            distinct = {k for k in keys_tr if k is not None}
            if not distinct:
                dropped.append({"name": name, "reason": "全部缺失"})
                notes.append(f"特征“{lab(name)}”全部缺失，已剔除")
                continue
            if len(distinct) < 2:
                dropped.append({"name": name, "reason": "只有一个取值"})
                continue
            fb = _bin_categorical_keys(
                name, keys_tr, y_tr, max_bins=cfg.max_bins, min_bin_share=cfg.min_bin_share
            )
            miss, _, catmap, other = fb._prepare()
            idx = _cat_indices(keys, catmap, other, miss)
        fb.label = labels.get(name, "")
        candidates.append(fb)
        index_of[name] = idx.astype(np.int64)
    timings["binning"] = time.perf_counter() - t1

    # -- selection ----------------------------------------------------------------------
    t2 = time.perf_counter()
    by_name = {fb.name: fb for fb in candidates}
    kept: list[FeatureBinning] = []
    for fb in candidates:
        if fb.iv < cfg.min_iv:
            dropped.append({"name": fb.name, "reason": f"IV {fb.iv:.3f} 低于阈值 {cfg.min_iv:g}"})
        else:
            kept.append(fb)
    kept.sort(key=lambda f: (-f.iv, f.name))

    def woe_col(fb: FeatureBinning, rows: np.ndarray) -> np.ndarray:
        w = np.array([b.woe for b in fb.bins], dtype=float)
        return w[index_of[fb.name][rows]]

    selected: list[FeatureBinning] = []
    if kept:
        W = np.column_stack([woe_col(fb, tr) for fb in kept])
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(W, rowvar=False) if W.shape[1] > 1 else np.ones((1, 1))
        corr = np.nan_to_num(np.atleast_2d(corr), nan=0.0)
        sel_pos: list[int] = []
        for i, fb in enumerate(kept):
            clash = next((j for j in sel_pos if abs(corr[i, j]) > cfg.max_corr), None)
            if clash is not None:
                other = kept[clash]
                dropped.append(
                    {
                        "name": fb.name,
                        "reason": f"与 {lab(other.name)} 相关系数 {abs(corr[i, clash]):.2f}，"
                        f"保留 IV 更高的 {lab(other.name)}",
                    }
                )
                continue
            if len(sel_pos) >= cfg.max_features:
                dropped.append(
                    {
                        "name": fb.name,
                        "reason": f"IV 排名在前 {cfg.max_features} 个特征之外",
                    }
                )
                continue
            sel_pos.append(i)
        selected = [kept[i] for i in sel_pos]

    # -- fit ----------------------------------------------------------------------------
    intercept = 0.0
    coefs: np.ndarray = np.zeros(0)
    while selected:
        X = np.column_stack([woe_col(fb, tr) for fb in selected])
        intercept, coefs = _fit_logit(X, y_tr)
        worst = int(np.argmax(coefs))
        if coefs[worst] <= 0:
            break
        dropped.append({"name": selected[worst].name, "reason": "系数符号与 WOE 方向相反"})
        del selected[worst]
    if not selected:
        raise TrainingError(
            "没有可用的特征：所有特征都因缺失、取值单一、IV 过低、相关性过高或系数方向不符被剔除"
        )
    timings["fit"] = time.perf_counter() - t2

    # -- scaling ------------------------------------------------------------------------
    t3 = time.perf_counter()
    factor = cfg.pdo / math.log(2)
    offset = cfg.base_score - factor * math.log(cfg.base_odds)
    nf = len(selected)
    share = (offset - factor * intercept) / nf
    coefficients: dict[str, float] = {}
    scores = np.zeros(n, dtype=np.int64)
    for fb, c in zip(selected, coefs, strict=True):
        coefficients[fb.name] = float(c)
        for b in fb.bins:
            b.points = int(round(-factor * float(c) * b.woe + share))
        pts = np.array([b.points for b in fb.bins], dtype=np.int64)
        scores += pts[index_of[fb.name]]
    s_tr = scores[tr].astype(float)
    s_ho = scores[ho].astype(float) if ho.size else s_tr
    y_ho = y[ho] if ho.size else y_tr
    cuts = [int(c) for c in cfg.grade_cuts] if cfg.grade_cuts else _grade_cuts_from(s_tr)
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
    notes.insert(
        0,
        f"共 {n} 行（坏样本 {n_bad} 个，坏账率 {n_bad / n:.2%}），"
        f"训练 {tr.size} 行、验证 {ho.size} 行；入模特征 {nf} 个",
    )
    timings["scaling"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t0
    del by_name
    return TrainResult(
        features=selected,
        candidates=candidates,
        dropped=dropped,
        intercept=intercept,
        coefficients=coefficients,
        factor=factor,
        offset=offset,
        grade_cuts=cuts,
        metrics=metrics,
        rows=n,
        bads=n_bad,
        notes=notes,
        config=cfg,
        timings=timings,
    )


# --------------------------------------------------------------------------------------------
# CSV


def decode(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), else GBK/GB18030."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise TrainingError("无法识别文件编码，请保存为 UTF-8 或 GBK 编码的 CSV")


def same_value(a: str, b: str) -> bool:
    """Target value equality as text or as a number ("1.0" == "1")."""
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def read_csv(
    stream: IO[str] | IO[bytes] | str | os.PathLike[str],
    target: str,
    bad_value: str,
    *,
    max_rows: int | None = None,
) -> tuple[dict[str, list[Any]], list[int], list[str]]:
    """Read a training CSV: ``(columns except target, target 0/1, notes)``.

    ``stream`` is a path (UTF-8 with or without BOM, GBK fallback), a text stream or a binary
    stream. Cells are stripped; empty cells become ``None``. A row is bad when its target equals
    ``bad_value`` (as stripped strings, or numerically: "1.0" == "1"); rows with an empty target are
    skipped.
    """
    if isinstance(stream, (str, os.PathLike)):
        with open(stream, "rb") as fh:
            text = decode(fh.read())
    else:
        data = stream.read()
        text = decode(data) if isinstance(data, bytes) else data
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise TrainingError("CSV 文件是空的")
    names = [h.strip().lstrip("\ufeff") for h in header]
    tname = target.strip()
    if tname not in names:
        raise TrainingError(f"CSV 中没有目标列 “{tname}”")
    notes: list[str] = []
    ti = names.index(tname)
    bad_s = str(bad_value).strip()
    # column positions (duplicate or empty names get a suffix)
    seen: dict[str, int] = {}
    cols: list[tuple[int, str]] = []
    for i, nm in enumerate(names):
        if i == ti:
            continue
        base = nm or f"列{i + 1}"
        key = base
        if key in seen:
            seen[base] += 1
            key = f"{base}_{seen[base]}"
            notes.append(f"列名“{base}”重复，第 {i + 1} 列改名为“{key}”")
        else:
            seen[key] = 1
        cols.append((i, key))
    out: dict[str, list[Any]] = {k: [] for _, k in cols}
    ys: list[int] = []
    skipped = 0
    truncated = False
    for row in reader:
        if not row or all(not c.strip() for c in row):
            continue
        if max_rows is not None and len(ys) >= max_rows:
            truncated = True
            break
        t = row[ti].strip() if ti < len(row) else ""
        if not t:
            skipped += 1
            continue
        ys.append(1 if same_value(t, bad_s) else 0)
        width = len(row)
        for i, k in cols:
            v = row[i].strip() if i < width else ""
            out[k].append(v or None)
    if skipped:
        notes.append(f"{skipped} 行目标列为空，已跳过")
    if truncated:
        notes.append(f"只读取了前 {max_rows} 行")
    if not ys:
        raise TrainingError("CSV 中没有数据行")
    nb = sum(ys)
    if nb == 0:
        raise TrainingError(f"目标列 “{tname}” 中没有取值为 “{bad_s}” 的行，请检查坏样本取值")
    if nb == len(ys):
        raise TrainingError("目标列只有一个取值，无法训练")
    return out, ys, notes


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
