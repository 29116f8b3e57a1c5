"""Decision models: evaluate the published version, edit drafts, test, publish, simulate.

Every other app calls ``evaluate(key, data, subject=obj)``; the result carries the version and
the matched rows (reasons), and with ``record=True`` an ``Evaluation`` row stores them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.core.bulk import json_bulk_insert
from credo.rules import engine
from credo.rules.errors import InvalidModel, InvalidState, NotPublished, TestsFailed
from credo.rules.models import DecisionModel, DecisionTestCase, DecisionVersion, Evaluation
from credo.rules.registry import get_spec, registered


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


# --- defaults ------------------------------------------------------------------------------------
def ensure_model(key: str) -> DecisionModel:
    """The model row for a registered key; version 1 = the shipped default, published, with the
    shipped test cases (only when the model has no versions yet)."""
    spec = get_spec(key)
    model = DecisionModel.objects.filter(key=key).first()
    if model is not None and (spec is None or model.versions.exists()):
        return model
    if spec is None:
        raise NotPublished(_("决策模型 %(k)s 不存在。") % {"k": key})
    try:
        with transaction.atomic():
            model, _created = DecisionModel.objects.get_or_create(
                key=key, defaults={"name": spec.name, "description": spec.description}
            )
            if model.versions.exists():
                return model
            content = spec.default_content()
            engine.compile_content(content)
            DecisionVersion.objects.create(
                model=model,
                number=1,
                status=DecisionVersion.Status.PUBLISHED,
                content=content,
                note=_("系统默认版本"),
                published_at=timezone.now(),
            )
            for case in spec.tests:
                DecisionTestCase.objects.create(
                    model=model,
                    name=case["name"],
                    input=case["input"],
                    expected=case["expected"],
                )
            audit_record(action="rules.default_installed", obj=model, metadata={"key": key})
    except IntegrityError:  # installed concurrently by another process
        model = DecisionModel.objects.get(key=key)
    return model


def ensure_defaults() -> list[DecisionModel]:
    return [ensure_model(spec.key) for spec in registered()]


# --- evaluation ----------------------------------------------------------------------------------
def _published(key: str) -> DecisionVersion | None:
    # At most one published version per model (constraint): no ORDER BY needed, and skipping
    # the default ordering (model → model.key) keeps this per-evaluation query cheap.
    rows = list(
        DecisionVersion.objects.filter(model__key=key, status=DecisionVersion.Status.PUBLISHED)
        .select_related("model")
        .order_by()[:1]
    )
    return rows[0] if rows else None


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


# --- versions ------------------------------------------------------------------------------------
def validate_content(content: Any, *, sample: dict[str, Any] | None = None) -> None:
    """Refuse content the engine cannot compile (or run on the model's sample input)."""
    try:
        decision = engine.compile_content(content)
        if sample is not None:
            engine.run(decision, sample, trace=False)
    except ValueError as exc:
        raise InvalidModel(_("决策模型内容无效：%(e)s") % {"e": exc}) from None


@transaction.atomic
def version_create(
    *,
    model: DecisionModel,
    actor: Any,
    content: dict[str, Any] | None = None,
    from_version: DecisionVersion | None = None,
    note: str = "",
) -> DecisionVersion:
    """A new draft (one open draft per model), copied from ``from_version``, the given content
    or the latest version."""
    model = DecisionModel.objects.select_for_update().get(pk=model.pk)
    if model.versions.filter(status=DecisionVersion.Status.DRAFT).exists():
        raise InvalidState(_("该模型已有草稿，请先编辑或发布现有草稿。"))
    if content is None:
        source = from_version or model.versions.order_by("-number").first()
        if source is None:
            raise InvalidModel(_("请提供决策模型内容。"))
        content = source.content
    spec = get_spec(model.key)
    validate_content(content, sample=spec.sample if spec and spec.sample else None)
    number = (model.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    version = DecisionVersion.objects.create(
        model=model, number=number, content=content, note=note[:200], created_by=actor
    )
    audit_record(
        action="rules.version_create",
        actor=actor,
        obj=version,
        metadata={
            "key": model.key,
            "number": number,
            "from": getattr(from_version, "number", None),
        },
    )
    return version


@transaction.atomic
def version_update(
    *, version: DecisionVersion, content: dict[str, Any], actor: Any, note: str | None = None
) -> DecisionVersion:
    version = DecisionVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    if version.status != DecisionVersion.Status.DRAFT:
        raise InvalidState(_("只有草稿可以修改；已发布的版本请新建草稿。"))
    spec = get_spec(version.model.key)
    validate_content(content, sample=spec.sample if spec and spec.sample else None)
    changed = version.content != content
    version.content = content
    if note is not None:
        version.note = note[:200]
    version.save()
    audit_record(
        action="rules.version_update",
        actor=actor,
        obj=version,
        metadata={"key": version.model.key, "number": version.number, "changed": changed},
    )
    return version


@dataclass
class CaseResult:
    case: DecisionTestCase
    passed: bool
    actual: dict[str, Any]
    error: str = ""
    mismatches: dict[str, Any] = field(default_factory=dict)


def _matches(expected: Any, actual: Any) -> bool:
    """``expected`` is a subset of ``actual`` (objects compared key by key, numbers by value)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            _matches(v, actual.get(k)) for k, v in expected.items()
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(expected) == float(actual)
    return bool(expected == actual)


def run_tests(version: DecisionVersion) -> list[CaseResult]:
    results = []
    for case in version.model.test_cases.all():
        try:
            actual, _reasons = run_version(version, case.input, trace=False)
        except InvalidModel as exc:
            results.append(CaseResult(case, False, {}, error=exc.message))
            continue
        mismatches = {
            k: {"expected": v, "actual": actual.get(k)}
            for k, v in (case.expected or {}).items()
            if not _matches(v, actual.get(k))
        }
        results.append(CaseResult(case, not mismatches, actual, mismatches=mismatches))
    return results


@transaction.atomic
def version_publish(*, version: DecisionVersion, actor: Any) -> DecisionVersion:
    """Publish a draft: every test case of the model must pass; the published version before
    it is retired. Applications/leads already decided keep the version stored with them."""
    model = DecisionModel.objects.select_for_update().get(pk=version.model_id)
    version = DecisionVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != DecisionVersion.Status.DRAFT:
        raise InvalidState(_("只有草稿可以发布。"))
    results = run_tests(version)
    if not results:
        raise TestsFailed(_("发布前请至少添加一个测试用例。"))
    failed = [r for r in results if not r.passed]
    if failed:
        raise TestsFailed(
            _("%(n)d 个测试用例未通过，不能发布：%(names)s")
            % {"n": len(failed), "names": "、".join(r.case.name for r in failed[:5])},
            details=[
                {"case": r.case.name, "error": r.error, "mismatches": r.mismatches} for r in failed
            ],
        )
    previous = model.versions.filter(status=DecisionVersion.Status.PUBLISHED).first()
    if previous is not None:
        previous.status = DecisionVersion.Status.RETIRED
        previous.save(update_fields=["status", "updated_at"])
    version.status = DecisionVersion.Status.PUBLISHED
    version.published_by = actor
    version.published_at = timezone.now()
    version.save()
    audit_record(
        action="rules.version_publish",
        actor=actor,
        obj=version,
        changes={"published": [getattr(previous, "number", None), version.number]},
        metadata={"key": model.key, "tests": len(results)},
    )
    return version


@transaction.atomic
def version_discard(*, version: DecisionVersion, actor: Any) -> None:
    version = DecisionVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    if version.status != DecisionVersion.Status.DRAFT:
        raise InvalidState(_("只有草稿可以删除。"))
    audit_record(
        action="rules.version_discard",
        actor=actor,
        obj=version,
        metadata={"key": version.model.key, "number": version.number},
    )
    version.delete()


# --- test cases ----------------------------------------------------------------------------------
@transaction.atomic
def testcase_create(
    *,
    model: DecisionModel,
    name: str,
    input: dict[str, Any],
    expected: dict[str, Any],
    actor: Any,
) -> DecisionTestCase:
    name = (name or "").strip()
    if not name:
        raise InvalidModel(_("请填写用例名称。"))
    if not isinstance(input, dict) or not isinstance(expected, dict) or not expected:
        raise InvalidModel(_("输入和期望输出必须是 JSON 对象，期望输出不能为空。"))
    case = DecisionTestCase.objects.create(
        model=model, name=name[:120], input=input, expected=expected, created_by=actor
    )
    audit_record(
        action="rules.testcase_create",
        actor=actor,
        obj=model,
        metadata={"case": case.pk, "name": case.name},
    )
    return case


@transaction.atomic
def testcase_delete(*, case: DecisionTestCase, actor: Any) -> None:
    audit_record(
        action="rules.testcase_delete",
        actor=actor,
        obj=case.model,
        metadata={"case": case.pk, "name": case.name},
    )
    case.delete()


# --- simulation ----------------------------------------------------------------------------------
@dataclass
class Simulation:
    total: int = 0
    changed: int = 0
    errors: int = 0
    seconds: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)  # changed decisions (first 200)
    summary: dict[str, int] = field(default_factory=dict)  # "before → after" → count


def recorded_inputs(key: str) -> Any:
    """Default simulation history: the inputs of the last n stored evaluations of ``key``."""

    def history(n: int) -> list[tuple[str, dict[str, Any]]]:
        rows = (
            Evaluation.objects.filter(model_key=key)
            .order_by("-id")
            .values_list("subject_type", "subject_id", "input")[:n]
        )
        return [(f"{t}#{i}" if t else "—", data) for t, i, data in rows]

    return history


def simulate(
    version: DecisionVersion, *, limit: int = 1000, against: DecisionVersion | None = None
) -> Simulation:
    """Run ``version`` and the published version over the last ``limit`` real records (the
    model's registered history) and report which decisions would change."""
    spec = get_spec(version.model.key)
    history = spec.history if spec is not None and spec.history is not None else None
    if history is None:
        history = recorded_inputs(version.model.key)
    baseline = against
    if baseline is None:
        baseline = version.model.versions.filter(status=DecisionVersion.Status.PUBLISHED).first()
    outputs = [f for f, _label in spec.outputs] if spec is not None and spec.outputs else None
    sim = Simulation()
    started = time.perf_counter()
    new_compiled = _compiled(version)
    old_compiled = _compiled(baseline) if baseline is not None else None
    for label, data in history(limit):
        sim.total += 1
        try:
            after, _t = engine.run(new_compiled, data, trace=False)
            before = engine.run(old_compiled, data, trace=False)[0] if old_compiled else {}
        except ValueError as exc:
            sim.errors += 1
            if len(sim.rows) < 200:
                sim.rows.append({"label": label, "input": data, "error": str(exc)})
            continue
        if outputs:
            after = {k: after.get(k) for k in outputs}
            before = {k: before.get(k) for k in outputs}
        if after != before:
            sim.changed += 1
            flip = f"{_brief(before)} → {_brief(after)}"
            sim.summary[flip] = sim.summary.get(flip, 0) + 1
            if len(sim.rows) < 200:
                sim.rows.append({"label": label, "input": data, "before": before, "after": after})
    sim.seconds = time.perf_counter() - started
    return sim


def _brief(result: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in result.items() if not isinstance(v, list | dict))
