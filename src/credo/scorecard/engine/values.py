"""Constants, the training error and value parsing shared by the engine modules; WOE/IV."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

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
