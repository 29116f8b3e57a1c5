"""Scorecard services: train (queued or in-process), publish/retire, score applications, PSI.

Training never holds a transaction open: the version row is created as ``training`` and the
job writes progress to it in small updates, then the result (or the error) in one save.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.bulk import json_bulk_insert
from credo.scorecard import engine, features
from credo.scorecard.errors import InvalidInput, InvalidState, NotAllowed, StaleVersion
from credo.scorecard.models import ApplicationScore, PsiCheck, Scorecard

logger = logging.getLogger(__name__)
S = Scorecard.Status

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


def _training_dir() -> Path:
    root = Path(getattr(settings, "CREDO_DOCUMENT_ROOT", "")) / "scorecard-training"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _upload_path(scorecard_id: int) -> Path:
    return _training_dir() / f"{scorecard_id}.csv"


def _check_csv(data: bytes, target: str, bad_value: str) -> None:
    """Refuse before queueing what training would refuse anyway: no header, no target column,
    a target with one class only."""
    try:
        text = engine.decode(data)
    except engine.TrainingError as exc:
        raise InvalidInput(str(exc)) from None
    reader = csv.reader(io.StringIO(text))
    columns = [c.strip() for c in next(reader, [])]
    if len(columns) < 2:
        raise InvalidInput(_("CSV 至少需要表头行，包含目标列和一个特征列。"))
    if target not in columns:
        raise InvalidInput(
            _("CSV 中没有目标列“%(t)s”（表头：%(cols)s）。")
            % {"t": target, "cols": "、".join(columns[:20])}
        )
    index = columns.index(target)
    bad = good = 0
    for row in reader:
        if index < len(row) and row[index].strip():
            if engine.same_value(row[index].strip(), bad_value):
                bad += 1
            else:
                good += 1
    if not bad or not good:
        raise InvalidInput(
            _("目标列“%(t)s”只有一个类别（坏样本 %(b)s 行，好样本 %(g)s 行），无法训练。")
            % {"t": target, "b": bad, "g": good}
        )


def _next_number() -> int:
    return (Scorecard.objects.aggregate(n=Max("number"))["n"] or 0) + 1


def scorecard_train_start(
    *,
    actor: Any,
    source: str,
    config: dict[str, Any] | None = None,
    name: str = "",
    csv_data: bytes | None = None,
    csv_name: str = "",
    target: str = "",
    bad_value: str = "",
    run: bool = False,
) -> Scorecard:
    """Create a version in ``training`` and queue the job (``run=True``: train in this process,
    for the CLI and the demo). Bad input raises before anything is stored."""
    _require(actor, "scorecard.train_scorecard")
    cleaned = clean_config(dict(config or {}))
    if source not in (Scorecard.Source.BOOK, Scorecard.Source.CSV):
        raise InvalidInput(_("未知的数据来源。"))
    if source == Scorecard.Source.CSV:
        target, bad_value = (target or "").strip(), (bad_value or "").strip()
        if not csv_data:
            raise InvalidInput(_("请选择要导入的 CSV 文件。"))
        if len(csv_data) > max_upload_bytes():
            raise InvalidInput(
                _("文件超过 %(mb)s MB 上限。") % {"mb": max_upload_bytes() // 1024 // 1024}
            )
        if not target:
            raise InvalidInput(_("请填写目标列（坏样本标记所在的列名）。"))
        if not bad_value:
            raise InvalidInput(_("请填写代表坏样本的取值，如 1 或 是。"))
        _check_csv(csv_data, target, bad_value)
        cleaned.update({"target": target, "bad_value": bad_value})
        source_name = csv_name or "upload.csv"
    else:
        cleaned.setdefault("outcome_dpd", 30)
        cleaned.setdefault("outcome_months", 12)
        source_name = str(
            _("放款后 %(m)s 个月内逾期 ≥ %(d)s 天")
            % {"m": cleaned["outcome_months"], "d": cleaned["outcome_dpd"]}
        )
    with transaction.atomic():
        card = Scorecard.objects.create(
            number=_next_number(),
            name=(name or "").strip()[:80] or str(_("申请评分卡")),
            source=source,
            source_name=source_name[:200],
            config=cleaned,
            progress=0,
            progress_note=str(_("排队等待训练")),
            created_by=actor,
        )
        if csv_data is not None and source == Scorecard.Source.CSV:
            _upload_path(card.pk).write_bytes(csv_data)
        audit_record(
            action="scorecard.train",
            actor=actor,
            obj=card,
            metadata={"source": source, "source_name": source_name, "config": cleaned},
        )
        if not run:
            from credo.scorecard.tasks import train_scorecard

            transaction.on_commit(lambda: train_scorecard.enqueue(card.pk))
    if run:
        return scorecard_train_run(card.pk)
    card.refresh_from_db()
    return card


def _progress(card: Scorecard, percent: int, note: str) -> None:
    Scorecard.objects.filter(pk=card.pk).update(progress=percent, progress_note=note[:200])


def _load(card: Scorecard) -> tuple[dict[str, list[Any]], list[int], list[str], dict[str, Any]]:
    config = card.config or {}
    if card.source == Scorecard.Source.CSV:
        path = _upload_path(card.pk)
        if not path.exists():
            raise engine.TrainingError(_("训练文件已不存在，请重新上传。"))
        columns, target, notes = engine.read_csv(
            str(path), config.get("target", ""), str(config.get("bad_value", ""))
        )
        return columns, target, notes, {"rows": len(target), "bads": sum(target)}
    return features.book_training_table(
        dpd=int(config.get("outcome_dpd", 30)), months=int(config.get("outcome_months", 12))
    )


def scorecard_train_run(scorecard_id: int) -> Scorecard:
    """The training job: load data → engine.train → store model and metrics (or the error)."""
    card = Scorecard.objects.get(pk=scorecard_id)
    if card.status != S.TRAINING:
        return card  # a retried task after it finished
    started = time.perf_counter()
    try:
        _progress(card, 10, _("读取训练数据"))
        columns, target, notes, summary = _load(card)
        _progress(card, 35, _("分箱、计算 WOE/IV 并拟合模型（%(n)s 行）") % {"n": len(target)})
        result = train_columns(columns, target, card.config or {})
    except engine.TrainingError as exc:
        card.status, card.error = S.FAILED, str(exc)
        card.progress, card.progress_note = 100, str(_("训练失败"))
        card.training_seconds = round(time.perf_counter() - started, 2)
        card.save()
        audit_record(action="scorecard.train_failed", obj=card, metadata={"error": card.error})
        _cleanup(card)
        return card
    except Exception:
        logger.exception("scorecard %s training crashed", card.pk)
        card.status, card.error = S.FAILED, str(_("训练过程中发生内部错误，请查看服务器日志。"))
        card.progress, card.progress_note = 100, str(_("训练失败"))
        card.save()
        _cleanup(card)
        raise
    _store(card, result, notes, summary, started)
    _cleanup(card)
    return card


def _store(
    card: Scorecard,
    result: engine.TrainResult,
    notes: list[str],
    summary: dict[str, Any],
    started: float,
) -> None:
    model = result.to_dict()
    model["notes"] = [*notes, *model.get("notes", [])]
    model["source_summary"] = summary
    holdout = model["metrics"].get("holdout", {})
    card.model = model
    card.rows, card.bads = result.rows, result.bads
    card.auc, card.ks, card.gini = holdout.get("auc"), holdout.get("ks"), holdout.get("gini")
    card.feature_count = len(result.features)
    card.status, card.error = S.DRAFT, ""
    card.progress, card.progress_note = 100, str(_("训练完成"))
    card.trained_at = timezone.now()
    card.training_seconds = round(time.perf_counter() - started, 2)
    card.save()
    audit_record(
        action="scorecard.trained",
        obj=card,
        metadata={"rows": card.rows, "bads": card.bads, "auc": card.auc, "ks": card.ks},
    )


def scorecard_train_table(
    *,
    actor: Any,
    columns: Mapping[str, Sequence[Any]],
    target: Sequence[int],
    source_name: str,
    notes: Sequence[str] = (),
    config: dict[str, Any] | None = None,
    name: str = "",
) -> Scorecard:
    """Train in this process on a table already in memory (the demo's synthetic migrated
    history). Raises ``engine.TrainingError`` and stores nothing when the table is unusable."""
    _require(actor, "scorecard.train_scorecard")
    cleaned = clean_config(dict(config or {}))
    started = time.perf_counter()
    result = train_columns(columns, target, cleaned)
    with transaction.atomic():
        card = Scorecard.objects.create(
            number=_next_number(),
            name=(name or "").strip()[:80] or str(_("申请评分卡")),
            source=Scorecard.Source.DEMO,
            source_name=source_name[:200],
            config=cleaned,
            created_by=actor,
        )
        audit_record(
            action="scorecard.train",
            actor=actor,
            obj=card,
            metadata={"source": card.source, "source_name": source_name, "config": cleaned},
        )
        _store(card, result, list(notes), {"rows": len(target), "bads": sum(target)}, started)
    return card


def _cleanup(card: Scorecard) -> None:
    if card.source == Scorecard.Source.CSV:
        _upload_path(card.pk).unlink(missing_ok=True)


def train_columns(
    columns: Mapping[str, Sequence[Any]], target: Sequence[int], config: dict[str, Any]
) -> engine.TrainResult:
    """Pure training on a table (used by the job, the demo and the benchmark)."""
    allowed = {k: v for k, v in config.items() if k in {*CONFIG_LIMITS, "grade_cuts", "seed"}}
    return engine.train(columns, target, _train_config(allowed))


@transaction.atomic
def scorecard_publish(
    *, scorecard: Scorecard, actor: Any, expected_version: int | None = None
) -> Scorecard:
    """Draft → published; the previously published version is retired in the same transaction.
    Applications submitted from now on are scored by this version."""
    _require(actor, "scorecard.publish_scorecard")
    card = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if expected_version is not None and card.version != expected_version:
        raise StaleVersion(_("评分卡已被他人修改，请刷新后重试。"))
    if card.status != S.DRAFT:
        raise InvalidState(
            _("只有草稿状态的评分卡可以发布（当前：%(s)s）。") % {"s": card.get_status_display()}
        )
    previous = list(Scorecard.objects.select_for_update().filter(status=S.PUBLISHED))
    now = timezone.now()
    for old in previous:
        old.status, old.retired_at = S.RETIRED, now
        old.version += 1
        old.save(update_fields=["status", "retired_at", "version"])
        audit_record(action="scorecard.retired", actor=actor, obj=old, metadata={"by": card.pk})
    card.status, card.published_at, card.published_by = S.PUBLISHED, now, actor
    card.version += 1
    card.save(update_fields=["status", "published_at", "published_by", "version"])
    audit_record(
        action="scorecard.published",
        actor=actor,
        obj=card,
        changes={"status": [S.DRAFT, S.PUBLISHED]},
        metadata={"replaced": [old.pk for old in previous]},
    )
    return card


@transaction.atomic
def scorecard_retire(*, scorecard: Scorecard, actor: Any) -> Scorecard:
    """Stop scoring with a published version (or discard a draft / failed one)."""
    _require(actor, "scorecard.publish_scorecard")
    card = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if card.status not in (S.PUBLISHED, S.DRAFT, S.FAILED):
        raise InvalidState(_("该评分卡当前状态不能停用。"))
    before = card.status
    card.status, card.retired_at = S.RETIRED, timezone.now()
    card.version += 1
    card.save(update_fields=["status", "retired_at", "version"])
    audit_record(
        action="scorecard.retired", actor=actor, obj=card, changes={"status": [before, S.RETIRED]}
    )
    return card


def model_card(card: Scorecard) -> dict[str, Any]:
    """The model card as plain data (CLI ``--json`` and the API)."""
    model = card.model or {}
    metrics = model.get("metrics") or {}
    return {
        "version": card.number,
        "name": card.name,
        "status": card.status,
        "error": card.error,
        "source": card.source,
        "source_name": card.source_name,
        "rows": card.rows,
        "bads": card.bads,
        "seconds": card.training_seconds,
        "train": metrics.get("train"),
        "holdout": metrics.get("holdout"),
        "psi_holdout": metrics.get("psi_holdout"),
        "bands": metrics.get("bands"),
        "grade_cuts": model.get("grade_cuts"),
        "features": [
            {
                "name": f["name"],
                "iv": round(f["iv"], 4),
                "coefficient": (model.get("coefficients") or {}).get(f["name"]),
                "bins": [
                    {
                        "bin": b["label"],
                        "count": b["count"],
                        "bad_rate": b["bad_rate"],
                        "woe": b["woe"],
                        "points": b["points"],
                    }
                    for b in f["bins"]
                ],
            }
            for f in model.get("features") or []
        ],
        "dropped": model.get("dropped"),
        "notes": model.get("notes"),
    }


# --- scoring -------------------------------------------------------------------------------
_MODELS: dict[tuple[int, int], engine.ScoreModel] = {}
SCORE_COLUMNS = {
    "application": "bigint",
    "scorecard": "bigint",
    "score": "integer",
    "grade": "text",
    "reasons": "jsonb",
    "points": "jsonb",
    "inputs": "jsonb",
}


def score_model(card: Scorecard) -> engine.ScoreModel:
    """The compiled model of a version (cached per process: a trained model never changes)."""
    key = (card.pk, card.number)
    model = _MODELS.get(key)
    if model is None:
        if len(_MODELS) > 16:
            _MODELS.clear()
        model = _MODELS[key] = engine.ScoreModel(card.model)
    return model


def published() -> Scorecard | None:
    return Scorecard.objects.filter(status=S.PUBLISHED).defer("model").first()


def _with_model(card: Scorecard) -> Scorecard:
    if (card.pk, card.number) in _MODELS:
        return card
    return Scorecard.objects.get(pk=card.pk)


def score_applications(
    applications: Sequence[Any],
    *,
    scorecard: Scorecard | None = None,
    admission_inputs: Sequence[dict[str, Any]] | None = None,
) -> list[ApplicationScore]:
    """Score applications with the published (or given) version and store the results.
    Re-scoring by the same version returns the stored score unchanged (idempotent)."""
    card = scorecard or published()
    apps = list(applications)
    if card is None or not apps:
        return []
    card = _with_model(card)
    model = score_model(card)
    rows = features.application_features(apps, admission_inputs=admission_inputs)
    new = [
        ApplicationScore(
            application_id=app.pk,
            scorecard=card,
            score=scored.score,
            grade=scored.grade,
            reasons=scored.reasons,
            points=scored.points,
            inputs=record,
        )
        for app, record, scored in zip(apps, rows, model.score_many(rows), strict=True)
    ]
    # One insert; an application this version already scored keeps its first row (the unique
    # constraint skips the new one), so re-scoring and concurrent submissions are idempotent.
    json_bulk_insert(new, SCORE_COLUMNS, ignore_conflicts=True)
    by_app = {s.application_id: s for s in new}
    stored = dict(
        ApplicationScore.objects.filter(
            scorecard=card, application_id__in=list(by_app)
        ).values_list("application_id", "id")
    )
    kept = [app_id for app_id, row in by_app.items() if stored.get(app_id) != row.pk]
    if kept:
        for row in ApplicationScore.objects.filter(scorecard=card, application_id__in=kept):
            by_app[row.application_id] = row
    return [by_app[a.pk] for a in apps if a.pk in by_app]


def score_application(
    application: Any, *, admission_input: dict[str, Any] | None = None
) -> ApplicationScore | None:
    """The score of one application at submission (None when no version is published);
    ``admission_input`` saves rebuilding what the submission already built."""
    scores = score_applications(
        [application], admission_inputs=[admission_input] if admission_input else None
    )
    return scores[0] if scores else None


def score_record(record: dict[str, Any], *, scorecard: Scorecard | None = None) -> engine.Scored:
    """Score feature values given directly (API what-if; nothing stored)."""
    card = scorecard or published()
    if card is None:
        raise InvalidState(_("还没有已发布的评分卡。"))
    return score_model(_with_model(card)).score(record)


def latest_score(application: Any) -> ApplicationScore | None:
    return (
        ApplicationScore.objects.filter(application=application)
        .select_related("scorecard")
        .order_by("-id")
        .first()
    )


# --- stability -----------------------------------------------------------------------------
def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def psi_check(
    month: dt.date | None = None, *, scorecard: Scorecard | None = None, min_count: int = 30
) -> PsiCheck | None:
    """PSI of one month's application scores (default: last month) against the training
    distribution of the published version; above the limit → alert the scorecard managers.
    Re-running a month updates its row and never alerts twice."""
    card = scorecard or published()
    if card is None:
        return None
    card = _with_model(card)
    month = _month_start(month or (_month_start(clock.today()) - dt.timedelta(days=1)))
    nxt = (month + dt.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(month, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(nxt, dt.time.min, tzinfo=tz)
    scores = list(
        ApplicationScore.objects.filter(
            scorecard=card, created_at__gte=start, created_at__lt=end
        ).values_list("score", flat=True)
    )
    baseline = (card.model.get("metrics") or {}).get("psi_baseline") or {}
    edges, expected = baseline.get("edges") or [], baseline.get("shares") or []
    value: float | None = None
    actual: list[float] = []
    note = ""
    if not edges or not expected:
        note = str(_("模型没有训练分布，无法计算 PSI。"))
    elif len(scores) < min_count:
        note = str(
            _("样本不足（%(n)s < %(m)s），本月不计算 PSI。") % {"n": len(scores), "m": min_count}
        )
    else:
        actual = engine.shares(scores, edges)
        value = round(engine.psi(expected, actual), 4)
    with transaction.atomic():
        check, _created = PsiCheck.objects.select_for_update().get_or_create(
            scorecard=card, month=month
        )
        check.n, check.psi, check.shares, check.note = len(scores), value, actual, note
        alert = value is not None and value > psi_alert_limit() and not check.alerted
        if alert:
            check.alerted = True
        check.save()
        audit_record(
            action="scorecard.psi",
            obj=card,
            metadata={"month": month.isoformat(), "n": len(scores), "psi": value},
        )
        if alert:
            transaction.on_commit(lambda: _psi_alert(card, check))
    return check


def _psi_alert(card: Scorecard, check: PsiCheck) -> None:
    from django.urls import reverse

    from credo.accounts.models import User
    from credo.core.todo.services import todo_create

    url = reverse("scorecard:detail", args=[card.pk])
    title = _("评分卡 %(c)s 稳定性预警：%(m)s PSI %(p)s 超过 %(l)s") % {
        "c": str(card),
        "m": check.month.strftime("%Y-%m"),
        "p": f"{check.psi:.3f}",
        "l": psi_alert_limit(),
    }
    users = (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(
                roles__permissions__content_type__app_label="scorecard",
                roles__permissions__codename="publish_scorecard",
            )
        )
        .distinct()
        .order_by("id")
    )
    for user in users:
        todo_create(
            user=user,
            title=title,
            description=str(
                _("近一个月申请客群的评分分布与训练样本差异显著，请复核模型或重新训练。")
            ),
            url=url,
            source="scorecard",
            dedupe_key=f"scorecard-psi:{card.pk}:{check.month.isoformat()}",
        )
        try:
            from credo.notify.services import notify
        except ImportError:  # pragma: no cover - notify app missing
            continue
        notify(
            template="scorecard.psi_alert",
            context={"title": title, "url": url},
            user=user,
            dedupe_key=f"scorecard-psi:{card.pk}:{check.month.isoformat()}:{user.pk}",
            url=url,
        )
