"""Supervised binning of numeric and categorical features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from credo.scorecard.engine.bins import Bin, FeatureBinning
from credo.scorecard.engine.values import (
    MAX_OTHER_LISTED,
    MISSING_LABEL,
    OTHER_LABEL,
    _cat_key,
    _fmt,
    woe_iv,
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
    trend = ""
    if monotonic and len(segs) > 1:
        segs, trend = _monotonic(segs, good, bad, n_miss, b_miss)
    _merge_small(segs, min_bin_share * float(xs.size))
    while len(segs) > max(1, max_bins):  # at most max_bins
        diffs = [
            abs(_rate(segs[j][1], segs[j][2]) - _rate(segs[j + 1][1], segs[j + 1][2]))
            for j in range(len(segs) - 1)
        ]
        _merge(segs, int(np.argmin(diffs)))

    bins = _numeric_bins(segs, cuts)
    bins.append(miss_bin)
    iv = _fill_stats(bins)
    if not monotonic and len(segs) > 1:
        trend = _observed_trend([b.bad_rate for b in bins[:-1]])
    return FeatureBinning(name, "numeric", bins, iv, trend=trend)


def _merge(segments: list[list[float]], j: int) -> None:
    """Merge segment j+1 into segment j."""
    a, c = segments[j], segments[j + 1]
    segments[j : j + 2] = [[a[0], a[1] + c[1], a[2] + c[2]]]


def _monotonic(
    segs: list[list[float]], good: np.ndarray, bad: np.ndarray, n_miss: int, b_miss: int
) -> tuple[list[list[float]], str]:
    """Pool adjacent segments until the bad rate is monotonic, in the direction (``asc`` /
    ``desc``) with the better IV (then the more bins)."""
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
    return segs, (best[2] if len(segs) > 1 else "")


def _merge_small(segs: list[list[float]], min_count: float) -> None:
    """Merge segments smaller than ``min_count`` into the neighbour with the closest bad rate."""
    while len(segs) > 1:
        sizes = [s[1] + s[2] for s in segs]
        j = int(np.argmin(sizes))
        if sizes[j] >= min_count:
            break
        r = _rate(segs[j][1], segs[j][2])
        if j == 0:
            _merge(segs, 0)
        elif j == len(segs) - 1:
            _merge(segs, j - 1)
        else:
            left = abs(_rate(segs[j - 1][1], segs[j - 1][2]) - r)
            right = abs(_rate(segs[j + 1][1], segs[j + 1][2]) - r)
            _merge(segs, j - 1 if left <= right else j)


def _numeric_bins(segs: list[list[float]], cuts: np.ndarray) -> list[Bin]:
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
    return bins


def _observed_trend(rates: list[float]) -> str:
    if all(a <= c for a, c in zip(rates, rates[1:], strict=False)):
        return "asc"
    if all(a >= c for a, c in zip(rates, rates[1:], strict=False)):
        return "desc"
    return ""


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
