"""Decision-model versions: drafts, test cases, test runs, publish, discard."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from credo.core import versioning
from credo.core.audit.services import audit_record
from credo.rules import engine
from credo.rules.errors import InvalidModel, InvalidState, TestsFailed
from credo.rules.models import DecisionModel, DecisionTestCase, DecisionVersion
from credo.rules.registry import get_spec
from credo.rules.services.evaluation import run_version


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
    version = (
        DecisionVersion.objects.select_for_update(of=("self",))
        .select_related("model")
        .get(pk=version.pk)
    )
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
    retired = versioning.publish(
        version, parent_field="model", actor=actor, published_by_field="published_by"
    )
    previous = retired[0] if retired else None
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
    version = (
        DecisionVersion.objects.select_for_update(of=("self",))
        .select_related("model")
        .get(pk=version.pk)
    )
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
