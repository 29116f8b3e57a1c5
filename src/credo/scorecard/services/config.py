"""Training parameters and their limits, upload and alert settings, the permission check."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.scorecard import engine, features
from credo.scorecard.errors import InvalidInput, NotAllowed

CONFIG_LIMITS: dict[str, tuple[float, float]] = {
    "base_score": (100, 2000),
    "base_odds": (0.01, 10_000),
    "pdo": (1, 500),
    "max_bins": (2, 20),
    "min_bin_share": (0.001, 0.3),
    "min_iv": (0.0, 1.0),
    "max_corr": (0.1, 1.0),
    "max_features": (1, 60),
    "holdout": (0.05, 0.6),
}
OUTCOME_LIMITS = {"outcome_dpd": (1, 360), "outcome_months": (1, 60)}


def max_upload_bytes() -> int:
    return int(getattr(settings, "CREDO_SCORECARD_MAX_UPLOAD_MB", 200)) * 1024 * 1024


def psi_alert_limit() -> float:
    return float(getattr(settings, "CREDO_SCORECARD_PSI_ALERT", 0.25))


def _require(actor: Any, perm: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        audit_record(action="scorecard.denied", actor=actor, metadata={"permission": perm})
        raise NotAllowed(_("没有权限执行该操作。"))


def clean_config(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate training parameters (from a form, the API or the CLI) → TrainConfig fields plus
    the outcome definition. Unknown keys are refused so a typo is not silently ignored."""
    allowed = {*CONFIG_LIMITS, *OUTCOME_LIMITS, "grade_cuts", "seed"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InvalidInput(_("未知的训练参数：%(k)s") % {"k": "、".join(unknown)})
    out: dict[str, Any] = {}
    for key, (lo, hi) in {**CONFIG_LIMITS, **OUTCOME_LIMITS}.items():
        value = raw.get(key)
        if value in (None, ""):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(_("参数 %(k)s 必须是数字。") % {"k": key}) from None
        if not lo <= number <= hi:
            raise InvalidInput(
                _("参数 %(k)s 必须在 %(lo)s 到 %(hi)s 之间。") % {"k": key, "lo": lo, "hi": hi}
            )
        integral = key in {"base_score", "max_bins", "max_features", *OUTCOME_LIMITS}
        out[key] = int(number) if integral else number
    if raw.get("seed") not in (None, ""):
        try:
            out["seed"] = int(raw["seed"])
        except (TypeError, ValueError):
            raise InvalidInput(_("随机种子必须是整数。")) from None
    cuts = raw.get("grade_cuts")
    if cuts not in (None, "", []):
        if isinstance(cuts, str):
            cuts = [c for c in cuts.replace("，", ",").split(",") if c.strip()]
        try:
            values = [int(float(c)) for c in cuts]
        except (TypeError, ValueError):
            raise InvalidInput(_("等级分界必须是 4 个整数分数，如 680,640,600,560。")) from None
        if len(values) != 4 or any(a <= b for a, b in zip(values, values[1:], strict=False)):
            raise InvalidInput(
                _("等级分界必须是 4 个从高到低的分数（A/B/C/D 的下限），如 680,640,600,560。")
            )
        out["grade_cuts"] = values
    return out


def _train_config(config: dict[str, Any]) -> engine.TrainConfig:
    fields = {k: v for k, v in config.items() if k not in OUTCOME_LIMITS}
    return engine.TrainConfig(
        **fields,
        labels=features.labels(),
        kinds=features.kinds(),
    )
