"""Feature selection: binning every column on the training rows, the IV screen, the correlation
screen, the top ``max_features``, and the logistic fit that drops wrong-signed coefficients."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from credo.scorecard.engine.binning import _bin_categorical_keys, bin_numeric
from credo.scorecard.engine.bins import FeatureBinning, _cat_indices
from credo.scorecard.engine.values import _cat_key, _to_float_counting, detect_kind

if TYPE_CHECKING:
    from credo.scorecard.engine.training import TrainConfig

Dropped = list[dict[str, Any]]


def _label(cfg: TrainConfig, name: str) -> str:
    return (cfg.labels or {}).get(name) or name


def _bin_numeric_column(
    name: str,
    vals: Sequence[Any],
    tr: np.ndarray,
    y_tr: np.ndarray,
    cfg: TrainConfig,
    dropped: Dropped,
    notes: list[str],
) -> tuple[FeatureBinning, np.ndarray] | None:
    x, n_unparsed = _to_float_counting(vals)
    xt = x[tr]
    present = xt[~np.isnan(xt)]
    if present.size == 0:
        dropped.append({"name": name, "reason": "全部缺失"})
        notes.append(f"特征“{_label(cfg, name)}”全部缺失，已剔除")
        return None
    if np.unique(present).size < 2:
        dropped.append({"name": name, "reason": "只有一个取值"})
        return None
    fb = bin_numeric(name, xt, y_tr, max_bins=cfg.max_bins, min_bin_share=cfg.min_bin_share)
    if n_unparsed:
        fb.note = f"{n_unparsed} 个无法识别为数字的值按缺失处理"
    miss, cuts, _, _ = fb._prepare()
    idx = np.searchsorted(np.asarray(cuts, dtype=float), x, side="right")
    idx[np.isnan(x)] = miss
    return fb, idx


def _bin_categorical_column(
    name: str,
    vals: Sequence[Any],
    tr: np.ndarray,
    y_tr: np.ndarray,
    cfg: TrainConfig,
    dropped: Dropped,
    notes: list[str],
) -> tuple[FeatureBinning, np.ndarray] | None:
    keys = [_cat_key(v) for v in vals]
    keys_tr = [keys[i] for i in tr.tolist()]
    distinct = {k for k in keys_tr if k is not None}
    if not distinct:
        dropped.append({"name": name, "reason": "全部缺失"})
        notes.append(f"特征“{_label(cfg, name)}”全部缺失，已剔除")
        return None
    if len(distinct) < 2:
        dropped.append({"name": name, "reason": "只有一个取值"})
        return None
    fb = _bin_categorical_keys(
        name, keys_tr, y_tr, max_bins=cfg.max_bins, min_bin_share=cfg.min_bin_share
    )
    miss, _, catmap, other = fb._prepare()
    return fb, _cat_indices(keys, catmap, other, miss)


def bin_columns(
    columns: Mapping[str, Sequence[Any]],
    tr: np.ndarray,
    y_tr: np.ndarray,
    cfg: TrainConfig,
    dropped: Dropped,
    notes: list[str],
) -> tuple[list[FeatureBinning], dict[str, np.ndarray]]:
    """Bin every column on the training rows (kind detected unless ``cfg.kinds`` forces it);
    all-missing and single-valued columns go to ``dropped``. Returns the candidates and, per
    candidate, the bin index of every row (training and holdout)."""
    labels = cfg.labels or {}
    candidates: list[FeatureBinning] = []
    index_of: dict[str, np.ndarray] = {}
    for name, vals in columns.items():
        kind = cfg.kinds.get(name) or detect_kind(vals)
        bin_column = _bin_numeric_column if kind == "numeric" else _bin_categorical_column
        binned = bin_column(name, vals, tr, y_tr, cfg, dropped, notes)
        if binned is None:
            continue
        fb, idx = binned
        fb.label = labels.get(name, "")
        candidates.append(fb)
        index_of[name] = idx.astype(np.int64)
    return candidates, index_of


def woe_column(
    fb: FeatureBinning, index_of: Mapping[str, np.ndarray], rows: np.ndarray
) -> np.ndarray:
    w = np.array([b.woe for b in fb.bins], dtype=float)
    return w[index_of[fb.name][rows]]


def select_features(
    candidates: list[FeatureBinning],
    index_of: Mapping[str, np.ndarray],
    tr: np.ndarray,
    cfg: TrainConfig,
    dropped: Dropped,
) -> list[FeatureBinning]:
    """IV ≥ ``min_iv``; of any pair with ``|r| > max_corr`` (training WOE) the lower-IV one
    dropped; top ``max_features`` by IV."""
    kept: list[FeatureBinning] = []
    for fb in candidates:
        if fb.iv < cfg.min_iv:
            dropped.append({"name": fb.name, "reason": f"IV {fb.iv:.3f} 低于阈值 {cfg.min_iv:g}"})
        else:
            kept.append(fb)
    kept.sort(key=lambda f: (-f.iv, f.name))
    if not kept:
        return []
    W = np.column_stack([woe_column(fb, index_of, tr) for fb in kept])
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
                    "reason": f"与 {_label(cfg, other.name)} 相关系数 {abs(corr[i, clash]):.2f}，"
                    f"保留 IV 更高的 {_label(cfg, other.name)}",
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
    return [kept[i] for i in sel_pos]


def _fit_logit(X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lr = LogisticRegression(solver="lbfgs", C=1e6, max_iter=1000)
        lr.fit(X, y)
    return float(lr.intercept_[0]), lr.coef_[0].astype(float)


def fit_signed(
    selected: list[FeatureBinning],
    index_of: Mapping[str, np.ndarray],
    tr: np.ndarray,
    y_tr: np.ndarray,
    dropped: Dropped,
) -> tuple[float, np.ndarray]:
    """Logistic regression on the WOE columns, dropping (from ``selected``, in place) the most
    positive coefficient and refitting until all are ≤ 0. Returns (intercept, coefficients)."""
    intercept = 0.0
    coefs: np.ndarray = np.zeros(0)
    while selected:
        X = np.column_stack([woe_column(fb, index_of, tr) for fb in selected])
        intercept, coefs = _fit_logit(X, y_tr)
        worst = int(np.argmax(coefs))
        if coefs[worst] <= 0:
            break
        dropped.append({"name": selected[worst].name, "reason": "系数符号与 WOE 方向相反"})
        del selected[worst]
    return intercept, coefs
