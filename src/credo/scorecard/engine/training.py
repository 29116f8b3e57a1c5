"""Training parameters and result, and :func:`train` — the steps in order."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from credo.scorecard.engine.bins import FeatureBinning
from credo.scorecard.engine.metrics import evaluate
from credo.scorecard.engine.scaling import scale_points
from credo.scorecard.engine.selection import bin_columns, fit_signed, select_features
from credo.scorecard.engine.values import MODEL_FORMAT, TrainingError

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


def _target(target: Sequence[int]) -> np.ndarray:
    y = np.asarray(list(target) if not isinstance(target, np.ndarray) else target)
    if y.ndim != 1:
        raise TrainingError("目标列格式不正确")
    try:
        y = y.astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise TrainingError("目标列只能是 0（好）或 1（坏）") from exc
    return y


def _check_sample(columns: Mapping[str, Sequence[Any]], y: np.ndarray) -> None:
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


def _split(y: np.ndarray, cfg: TrainConfig, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Stratified training / holdout row indices (sorted)."""
    from sklearn.model_selection import train_test_split

    all_idx = np.arange(int(y.size))
    if 0 < cfg.holdout < 1:
        tr, ho = train_test_split(all_idx, test_size=cfg.holdout, stratify=y, random_state=cfg.seed)
        return np.sort(tr), np.sort(ho)
    notes.append("未留出验证集，验证指标按训练集计算")
    return all_idx, all_idx[:0]


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
    cfg = config or TrainConfig()
    cfg.validate()
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    y = _target(target)
    _check_sample(columns, y)
    n = int(y.size)
    n_bad = int(y.sum())
    notes: list[str] = []
    tr, ho = _split(y, cfg, notes)
    y_tr = y[tr]
    timings["prepare"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    dropped: list[dict[str, Any]] = []
    candidates, index_of = bin_columns(columns, tr, y_tr, cfg, dropped, notes)
    timings["binning"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    selected = select_features(candidates, index_of, tr, cfg, dropped)
    intercept, coefs = fit_signed(selected, index_of, tr, y_tr, dropped)
    if not selected:
        raise TrainingError(
            "没有可用的特征：所有特征都因缺失、取值单一、IV 过低、相关性过高或系数方向不符被剔除"
        )
    timings["fit"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    scaled = scale_points(
        selected,
        coefs,
        intercept,
        index_of,
        n,
        pdo=cfg.pdo,
        base_score=cfg.base_score,
        base_odds=cfg.base_odds,
    )
    cuts, metrics = evaluate(scaled.scores, y, tr, ho, cfg.grade_cuts)
    notes.insert(
        0,
        f"共 {n} 行（坏样本 {n_bad} 个，坏账率 {n_bad / n:.2%}），"
        f"训练 {tr.size} 行、验证 {ho.size} 行；入模特征 {len(selected)} 个",
    )
    timings["scaling"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t0
    return TrainResult(
        features=selected,
        candidates=candidates,
        dropped=dropped,
        intercept=intercept,
        coefficients=scaled.coefficients,
        factor=scaled.factor,
        offset=scaled.offset,
        grade_cuts=cuts,
        metrics=metrics,
        rows=n,
        bads=n_bad,
        notes=notes,
        config=cfg,
        timings=timings,
    )
