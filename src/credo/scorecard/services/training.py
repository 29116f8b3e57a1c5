"""Training a version: queued or in-process, from the book, a CSV upload or a table in memory.

Training never holds a transaction open: the version row is created as ``training`` and the
job writes progress to it in small updates, then the result (or the error) in one save.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import fsm, tabular
from credo.core.audit.services import audit_record
from credo.scorecard import engine, features, states  # noqa: F401 — registers the machine
from credo.scorecard.errors import InvalidInput
from credo.scorecard.models import Scorecard
from credo.scorecard.services.config import (
    CONFIG_LIMITS,
    _require,
    _train_config,
    clean_config,
    max_upload_bytes,
)

logger = logging.getLogger(__name__)
S = Scorecard.Status


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
    reader = tabular.csv_rows(text)
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
    """The next version number from the locked ``scorecard`` counter (``credo.core.sequence``,
    seeded from the largest existing number): two trainings started together cannot collide
    on the unique number. Call inside the creating transaction."""
    from credo.core.sequence import next_value

    return next_value(
        "scorecard", seed=lambda: Scorecard.objects.aggregate(n=Max("number"))["n"] or 0
    )


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
        fsm.transition(card, S.FAILED, save=False)
        card.error = str(exc)
        card.progress, card.progress_note = 100, str(_("训练失败"))
        card.training_seconds = round(time.perf_counter() - started, 2)
        card.save()
        audit_record(action="scorecard.train_failed", obj=card, metadata={"error": card.error})
        _cleanup(card)
        return card
    except Exception:
        logger.exception("scorecard %s training crashed", card.pk)
        fsm.transition(card, S.FAILED, save=False)
        card.error = str(_("训练过程中发生内部错误，请查看服务器日志。"))
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
    fsm.transition(card, S.DRAFT, save=False)
    card.error = ""
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
