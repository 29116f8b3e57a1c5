"""Reads for the scorecard pages: version lists, the model card, the risk insight ranking.

Everything shown comes from ``Scorecard.model`` (the stored ``engine.TrainResult.to_dict()``),
so a card always shows exactly what scores applications. Industry and region codes in bins are
shown with their names (GB/T 4754 sections, GB/T 2260 cities).
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from credo.scorecard import features
from credo.scorecard.engine import MISSING_LABEL, OTHER_LABEL
from credo.scorecard.models import PsiCheck, Scorecard

S = Scorecard.Status
TRAINED = (S.DRAFT, S.PUBLISHED, S.RETIRED)


def scorecard_list() -> QuerySet[Scorecard]:
    return Scorecard.objects.defer("model").select_related("created_by", "published_by")


def scorecard_get(pk: int) -> Scorecard:
    return get_object_or_404(Scorecard.objects.select_related("created_by", "published_by"), pk=pk)


def trained_versions() -> QuerySet[Scorecard]:
    """Versions with a model (for the insight selector), newest first."""
    return (
        Scorecard.objects.filter(status__in=TRAINED)
        .exclude(model={})
        .only("id", "number", "name", "status", "trained_at")
    )


def psi_history(card: Scorecard | None, limit: int = 24) -> list[PsiCheck]:
    if card is None:
        return []
    return list(card.psi_checks.order_by("-month")[:limit])


# --- labels ----------------------------------------------------------------------------------
def feature_label(name: str, model: dict[str, Any] | None = None) -> str:
    labels = features.labels()
    if name in labels:
        return labels[name]
    cfg_labels = ((model or {}).get("config") or {}).get("labels") or {}
    return str(cfg_labels.get(name) or name)


def _industry_name(code: str) -> str:
    from credo.customers.industries import INDUSTRY_NAMES

    name = INDUSTRY_NAMES.get(code.strip().upper())
    return f"{code} {name}" if name else code


def _region_name(code: str) -> str:
    from credo.core.regions import full_name, get_region

    code = code.strip()
    full = code if len(code) == 6 else (code + "00" if len(code) == 4 else code)
    if get_region(full) is None:
        return code
    name = full_name(full)
    return f"{code} {name}" if name else code


def _kind_name(code: str) -> str:
    from credo.customers.models import Customer

    return str(dict(Customer.Kind.choices).get(code.strip(), code))


def _namer(feature: str) -> Any:
    if feature == "industry":
        return _industry_name
    if feature == "region":
        return _region_name
    if feature == "kind":
        return _kind_name
    return None


# --- bin labels for people -------------------------------------------------------------------
# One formatter for every place a bin is shown (application page, approval task, model card,
# insight page). Stored labels are the engine's technical ones ("[1000000, 3000000)", "< 3",
# "≥ 5", "缺失", "其他", "E、K"); people read "100万–300万元", "< 3年", "缺失".
MONEY_FEATURES = frozenset({"registered_capital", "amount"})
UNIT_FEATURES: dict[str, Any] = {
    "business_years": _lazy("%(v)s年"),
    "months": _lazy("%(v)s个月"),
    "annual_rate": _lazy("%(v)s%%"),
    "amount_to_capital": _lazy("%(v)s倍"),
    "litigation_count": _lazy("%(v)s件"),
    "risk_flag_count": _lazy("%(v)s个"),
    "overdue_loans": _lazy("%(v)s笔"),
    "prior_loans": _lazy("%(v)s笔"),
}
_RANGE = re.compile(r"^\[\s*(-?[\d.eE+-]+)\s*,\s*(-?[\d.eE+-]+)\s*\)$")
_OPEN = re.compile(r"^(<|≥)\s*(-?[\d.eE+-]+)$")
_UNIT_SUFFIX = re.compile(r"\s*[（(][^（()）]*[)）]\s*$")


def _compact(v: float) -> str:
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.4f}".rstrip("0").rstrip(".")


def number_text(v: float) -> str:
    """A bin edge for people: 万/亿 for large values in Chinese, digit grouping otherwise."""
    if translation.get_language() and not translation.get_language().startswith("zh"):
        return f"{int(v):,}" if float(v).is_integer() else _compact(v)
    if abs(v) >= 100_000_000:
        return _("%(v)s亿") % {"v": _compact(round(v / 100_000_000, 4))}
    if abs(v) >= 10_000:
        return _("%(v)s万") % {"v": _compact(round(v / 10_000, 4))}
    return _compact(v)


def _with_unit(feature: str, text: str) -> str:
    if feature in MONEY_FEATURES:
        return _("%(v)s元") % {"v": text}
    unit = UNIT_FEATURES.get(feature)
    return str(unit) % {"v": text} if unit is not None else text


def range_text(feature: str, lo: float | None, hi: float | None) -> str:
    """[lo, hi) as "lo–hi 单位"; open ends as "< hi" / "≥ lo"; both open: 全部."""
    if lo is None and hi is None:
        return _("全部")
    if lo is None:
        return "< " + _with_unit(feature, number_text(float(hi)))  # type: ignore[arg-type]
    if hi is None:
        return "≥ " + _with_unit(feature, number_text(float(lo)))
    return _with_unit(feature, f"{number_text(float(lo))}–{number_text(float(hi))}")


def _special(label: str) -> str | None:
    if label == MISSING_LABEL:
        return _("缺失")
    if label == OTHER_LABEL:
        return _("其他")
    if label == "全部":
        return _("全部")
    return None


def bin_display(feature: str, b: dict[str, Any]) -> str:
    """A bin (model dict) for people: numeric edges with units and 万, category codes of
    industry/region/customer type named, "缺失" / "其他" translated."""
    label = str(b.get("label") or "")
    if b.get("missing"):
        return _("缺失")
    if b.get("categories") is None and ("lo" in b or "hi" in b) and _special(label) is None:
        lo, hi = b.get("lo"), b.get("hi")
        if lo is not None or hi is not None:
            return range_text(feature, lo, hi)
    namer = _namer(feature)
    cats = b.get("categories")
    if b.get("other"):
        other = _("其他")
        if namer is None or not cats:
            return other
        named = [namer(str(c)) for c in cats]
        return f"{other}（{'、'.join(named[:8])}{' …' if len(named) > 8 else ''}）"
    if namer is not None and cats:
        return "、".join(namer(str(c)) for c in cats)
    return label_display(feature, label)


def label_display(feature: str, label: str) -> str:
    """A stored bin label (e.g. a reason code's "[1000000, 3000000)" or "E、K") for people —
    the same text ``bin_display`` gives for the bin."""
    label = (label or "").strip()
    special = _special(label)
    if special is not None:
        return special
    m = _RANGE.match(label)
    try:
        if m:
            return range_text(feature, float(m.group(1)), float(m.group(2)))
        m = _OPEN.match(label)
        if m:
            edge = float(m.group(2))
            return (
                range_text(feature, None, edge)
                if m.group(1) == "<"
                else range_text(feature, edge, None)
            )
    except ValueError:
        return label
    namer = _namer(feature)
    if namer is None or not label:
        return label
    parts = label.split("、")
    if not all(p.strip().isalnum() and len(p.strip()) <= 10 for p in parts):
        return label  # "… 等 9 项": leave as stored
    return "、".join(namer(p.strip()) for p in parts)


def feature_short_label(name: str, model: dict[str, Any] | None = None) -> str:
    """The feature's label without the unit in brackets when the bin text carries the unit:
    "注册资本（元）" → "注册资本"."""
    label = feature_label(name, model)
    if name in MONEY_FEATURES or name in UNIT_FEATURES:
        return _UNIT_SUFFIX.sub("", label) or label
    return label


def reason_text(feature: str, bin_label: str, label: str = "") -> str:
    """A reason code as a person writes it: "注册资本 100万–300万元", "成立年限 < 3年"."""
    name = feature_short_label(feature) if feature in features.labels() else (label or feature)
    return f"{name} {label_display(feature, bin_label)}"


def iv_strength(iv: float) -> tuple[str, str]:
    """(word, badge class) of the information value: <0.02 none, <0.1 weak, <0.3 medium."""
    if iv < 0.02:
        return _("无"), "bg-secondary-lt"
    if iv < 0.1:
        return _("弱"), "bg-yellow-lt"
    if iv < 0.3:
        return _("中"), "bg-blue-lt"
    return _("强"), "bg-green-lt"


def _bins(feature: str, raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    total = sum(int(b.get("count") or 0) for b in raw) or 1
    top = max((float(b.get("bad_rate") or 0) for b in raw), default=0.0) or 1.0
    rows = []
    for b in raw:
        count = int(b.get("count") or 0)
        rate = float(b.get("bad_rate") or 0)
        rows.append(
            {
                "label": bin_display(feature, b),
                "count": count,
                "share": count / total * 100,
                "bads": int(b.get("bads") or 0),
                "bad_rate": rate * 100,
                "bar": rate / top * 100,
                "woe": float(b.get("woe") or 0),
                "iv": float(b.get("iv") or 0),
                "points": int(b.get("points") or 0),
                "missing": bool(b.get("missing")),
                "other": bool(b.get("other")),
            }
        )
    return rows


def _feature_rows(model: dict[str, Any], key: str) -> list[dict[str, Any]]:
    coefficients = model.get("coefficients") or {}
    out = []
    for f in model.get(key) or []:
        name = str(f.get("name"))
        iv = float(f.get("iv") or 0)
        word, badge = iv_strength(iv)
        points = [int(b.get("points") or 0) for b in f.get("bins") or []]
        out.append(
            {
                "name": name,
                "label": feature_label(name, model),
                "kind": f.get("kind"),
                "iv": iv,
                "strength": word,
                "strength_badge": badge,
                "coefficient": coefficients.get(name),
                "trend": f.get("trend") or "",
                "note": f.get("note") or "",
                "points_range": (min(points), max(points)) if points else None,
                "bins": _bins(name, list(f.get("bins") or [])),
            }
        )
    return out


def _cfg(card: Scorecard) -> dict[str, Any]:
    model_cfg = dict((card.model or {}).get("config") or {})
    out: dict[str, Any] = {}
    for key in ("base_score", "base_odds", "pdo", "max_bins", "min_iv", "max_corr", "holdout"):
        value = (card.config or {}).get(key, model_cfg.get(key))
        out[key] = value
    return out


def _split(metrics: dict[str, Any], key: str) -> dict[str, Any]:
    m = dict(metrics.get(key) or {})
    n, bads = m.get("n") or 0, m.get("bads") or 0
    m["bad_rate"] = bads / n * 100 if n else None
    return m


def card_context(card: Scorecard) -> dict[str, Any]:
    """Everything the model card shows, from the stored model."""
    model = dict(card.model or {})
    metrics = dict(model.get("metrics") or {})
    bands = [
        {**b, "bad_rate_pct": float(b.get("bad_rate") or 0) * 100}
        for b in metrics.get("bands") or []
    ]
    dropped = [
        {"name": d.get("name"), "label": feature_label(str(d.get("name")), model), **d}
        for d in model.get("dropped") or []
    ]
    distribution = metrics.get("distribution") or {}
    chart = None
    edges = distribution.get("edges") or []
    if len(edges) >= 2:
        chart = {
            "labels": [f"{a}–{b}" for a, b in zip(edges, edges[1:], strict=False)],
            "series": [
                {"name": str(_("训练集")), "data": list(distribution.get("train") or [])},
                {"name": str(_("验证集")), "data": list(distribution.get("holdout") or [])},
            ],
        }
    return {
        "cfg": _cfg(card),
        "grade_cuts": model.get("grade_cuts") or (card.config or {}).get("grade_cuts") or [],
        "notes": list(model.get("notes") or []),
        "bad_rate": card.bads / card.rows * 100 if card.rows else None,
        "train": _split(metrics, "train"),
        "holdout": _split(metrics, "holdout"),
        "psi_holdout": metrics.get("psi_holdout"),
        "bands": bands,
        "features": _feature_rows(model, "features"),
        "dropped": dropped,
        "chart": chart,
        "intercept": model.get("intercept"),
        "source_summary": model.get("source_summary") or {},
    }


def insight_context(card: Scorecard) -> dict[str, Any]:
    """Every candidate attribute ranked by IV, with its bins (what defaults more)."""
    model = dict(card.model or {})
    rows = _feature_rows(model, "candidates")
    if not rows:  # an older model without candidates: the selected features still tell a lot
        rows = _feature_rows(model, "features")
    selected = {str(f.get("name")) for f in model.get("features") or []}
    for row in rows:
        row["selected"] = row["name"] in selected
    rows.sort(key=lambda r: r["iv"], reverse=True)
    chart = {
        "labels": [r["label"] for r in rows],
        "values": [round(r["iv"], 4) for r in rows],
        "name": str(_("信息值 IV")),
    }
    overall = card.bads / card.rows * 100 if card.rows else None
    return {
        "attributes": rows,
        "chart": chart,
        "chart_height": max(240, 28 * len(rows) + 40),
        "overall_bad_rate": overall,
    }
