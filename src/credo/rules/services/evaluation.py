"""Evaluate the published version of a decision model (one input or many)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from credo.core.bulk import json_bulk_insert
from credo.rules import engine
from credo.rules.errors import InvalidModel, NotPublished
from credo.rules.models import DecisionVersion, Evaluation
from credo.rules.services.defaults import ensure_model


@dataclass
class Decision:
    key: str
    version: DecisionVersion
    result: dict[str, Any]
    reasons: list[dict[str, Any]] = field(default_factory=list)
    evaluation: Evaluation | None = None

    @property
    def version_label(self) -> str:
        return f"{self.key} v{self.version.number}"

    @property
    def version_display(self) -> str:
        """The version as business users read it ("信用评分（规则） 第1版")."""
        return self.version.display_name


# Published versions never change (only drafts are edited; publishing a new version retires the
# old one), so a process keeps each one it has loaded by id and asks the database only which id
# is published now — one indexed query without the table content, so a publish is seen by every
# process on its next evaluation (issue 24: loading and parsing the content per call cost more
# than evaluating it).
_VERSIONS: OrderedDict[tuple[Any, ...], DecisionVersion] = OrderedDict()
_VERSIONS_MAX = 64
_versions_lock = threading.Lock()


def _published_ident(key: str) -> tuple[Any, ...] | None:
    """(id, updated_at) of the published version of ``key``, by one prepared SQL statement (the
    ORM's query building cost ~1 ms here, more than the evaluation)."""
    version_table = DecisionVersion._meta.db_table
    model_table = DecisionVersion._meta.get_field("model").related_model._meta.db_table  # type: ignore[union-attr]
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT v.id, v.updated_at FROM {version_table} v "  # noqa: S608 — table names
            f"JOIN {model_table} m ON m.id = v.model_id WHERE m.key = %s AND v.status = %s "
            "LIMIT 1",
            [key, DecisionVersion.Status.PUBLISHED.value],
        )
        row = cur.fetchone()
    return tuple(row) if row else None


def _published(key: str) -> DecisionVersion | None:
    # At most one published version per model (constraint). The key is (id, updated_at): an id
    # alone could be reused after a rolled-back insert (SQLite).
    ident = _published_ident(key)
    if ident is None:
        return None
    with _versions_lock:
        cached = _VERSIONS.get(ident)
        if cached is not None:
            _VERSIONS.move_to_end(ident)
            return cached
    rows = list(DecisionVersion.objects.filter(pk=ident[0]).select_related("model"))
    if not rows:
        return None
    if rows[0].status == DecisionVersion.Status.PUBLISHED:
        with _versions_lock:
            _VERSIONS[ident] = rows[0]
            while len(_VERSIONS) > _VERSIONS_MAX:
                _VERSIONS.popitem(last=False)
    return rows[0]


def published_version(key: str) -> DecisionVersion:
    version = _published(key)
    if version is None:
        ensure_model(key)
        version = _published(key)
    if version is None:
        raise NotPublished(_("决策模型 %(k)s 没有已发布的版本。") % {"k": key})
    return version


def _compiled(version: DecisionVersion) -> Any:
    # Published content never changes; a draft's cache entry is keyed by its last save.
    key = (version.pk, version.updated_at.isoformat() if version.updated_at else "")
    try:
        return engine.compile_content(version.content, cache_key=key)
    except ValueError as exc:
        raise InvalidModel(_("决策模型内容无效：%(e)s") % {"e": exc}) from None


def run_version(
    version: DecisionVersion, data: dict[str, Any], *, trace: bool = True
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Evaluate one version without storing anything: (result, reasons)."""
    try:
        result, tr = engine.run(_compiled(version), data, trace=trace)
    except ValueError as exc:
        raise InvalidModel(_("决策模型执行出错：%(e)s") % {"e": exc}) from None
    return result, engine.reasons(version.content, tr) if trace else []


def _subject_ref(subject: Any) -> tuple[str, str]:
    if subject is None:
        return "", ""
    meta = subject._meta
    return f"{meta.app_label}.{meta.model_name}", str(subject.pk)


def evaluate(
    key: str,
    data: dict[str, Any],
    *,
    version: DecisionVersion | None = None,
    subject: Any = None,
    record: bool = True,
) -> Decision:
    """Evaluate the published version of ``key`` (or ``version``) over ``data``."""
    version = version or published_version(key)
    result, reasons = run_version(version, data)
    decision = Decision(key=key, version=version, result=result, reasons=reasons)
    if record:
        subject_type, subject_id = _subject_ref(subject)
        decision.evaluation = Evaluation.objects.create(
            model_key=key,
            version=version,
            subject_type=subject_type,
            subject_id=subject_id,
            input=data,
            output=result,
            reasons=reasons,
        )
    return decision


def evaluate_many(
    key: str, items: list[tuple[Any, dict[str, Any]]], *, record: bool = True
) -> list[Decision]:
    """Evaluate many inputs with one published version (looked up once); evaluations stored
    with one bulk insert. Results are identical to calling ``evaluate`` one by one."""
    version = published_version(key)
    decisions = []
    rows = []
    for subject, data in items:
        result, reasons = run_version(version, data)
        decisions.append(Decision(key=key, version=version, result=result, reasons=reasons))
        if record:
            subject_type, subject_id = _subject_ref(subject)
            rows.append(
                Evaluation(
                    model_key=key,
                    version=version,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    input=data,
                    output=result,
                    reasons=reasons,
                )
            )
    if rows:
        created = _insert_evaluations(rows)
        for decision, evaluation in zip(decisions, created, strict=True):
            decision.evaluation = evaluation
    return decisions


def _insert_evaluations(rows: list[Evaluation]) -> list[Evaluation]:
    """Bulk insert through ``core.bulk`` (Django's per-field SQL compilation of four JSON
    columns cost more than the rule evaluation itself)."""
    return json_bulk_insert(
        rows,
        {
            "model_key": "text",
            "version": "bigint",
            "subject_type": "text",
            "subject_id": "text",
            "input": "jsonb",
            "output": "jsonb",
            "reasons": "jsonb",
        },
    )
