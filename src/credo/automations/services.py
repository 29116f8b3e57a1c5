"""Every write of the automations app: automations, drafts, test cases, publish and retire."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from credo.automations import actions as action_types
from credo.automations import conditions, engine, triggers
from credo.automations.errors import AutomationError
from credo.automations.models import Automation, AutomationTestCase, AutomationVersion
from credo.core import fsm, versioning
from credo.core.audit.services import audit_record

MANAGE = "automations.manage_automation"


def _require(actor: Any) -> None:
    if actor is None or not actor.has_perm(MANAGE):
        raise AutomationError(_("没有配置自动化的权限。"))


def validate_version(version: AutomationVersion) -> dict[str, str]:
    errors: dict[str, str] = {}
    errors.update({f"trigger.{k}": v for k, v in triggers.validate(version.trigger or {}).items()})
    errors.update(
        {f"condition.{k}": v for k, v in conditions.validate(version.condition or {}).items()}
    )
    errors.update(action_types.validate(version.actions))
    return errors


@transaction.atomic
def automation_create(
    *,
    name: str,
    actor: Any,
    description: str = "",
    trigger: dict[str, Any] | None = None,
    condition: dict[str, Any] | None = None,
    actions: list[dict[str, Any]] | None = None,
) -> AutomationVersion:
    """A new automation with its first draft (v1)."""
    _require(actor)
    name = (name or "").strip()
    if not name:
        raise AutomationError(_("请填写名称。"), field_errors={"name": _("请填写名称。")})
    automation = Automation.objects.create(
        name=name[:120], description=description or "", created_by=actor
    )
    version = AutomationVersion.objects.create(
        automation=automation,
        number=1,
        trigger=trigger or {"type": "event"},
        condition=condition or {"kind": "none"},
        actions=actions or [],
        created_by=actor,
    )
    audit_record(
        action="automation.create",
        actor=actor,
        obj=automation,
        changes={"name": {"old": None, "new": automation.name}},
    )
    return version


def _locked_draft(version: AutomationVersion) -> AutomationVersion:
    locked = AutomationVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != AutomationVersion.Status.DRAFT:
        raise AutomationError(_("只有草稿可以修改。"))
    return locked


@transaction.atomic
def version_update(
    *,
    version: AutomationVersion,
    actor: Any,
    trigger: dict[str, Any],
    condition: dict[str, Any],
    actions: list[dict[str, Any]],
    note: str = "",
) -> AutomationVersion:
    """Save the draft; refused with every problem named when it is incomplete."""
    _require(actor)
    locked = _locked_draft(version)
    before = {"trigger": locked.trigger, "condition": locked.condition, "actions": locked.actions}
    locked.trigger, locked.condition, locked.actions = trigger, condition, actions
    locked.note = (note or "")[:200]
    errors = validate_version(locked)
    if errors:
        raise AutomationError(_("自动化配置有误，请检查标出的项目。"), field_errors=errors)
    locked.save()
    audit_record(
        action="automation.version_update",
        actor=actor,
        obj=locked,
        changes={
            k: {"old": before[k], "new": getattr(locked, k)}
            for k in before
            if before[k] != getattr(locked, k)
        },
    )
    return locked


@transaction.atomic
def version_new(
    *, automation: Automation, actor: Any, source: AutomationVersion | None = None
) -> AutomationVersion:
    """A new draft copied from ``source`` (default: the latest version)."""
    _require(actor)
    automation = Automation.objects.select_for_update().get(pk=automation.pk)
    if automation.versions.filter(status=AutomationVersion.Status.DRAFT).exists():
        raise AutomationError(_("已有草稿，请先编辑或发布该草稿。"))
    source = source or automation.versions.order_by("-number").first()
    number = (automation.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    draft = AutomationVersion.objects.create(
        automation=automation,
        number=number,
        trigger=dict(source.trigger) if source else {"type": "event"},
        condition=dict(source.condition) if source else {"kind": "none"},
        actions=list(source.actions) if source else [],
        created_by=actor,
    )
    audit_record(
        action="automation.version_create",
        actor=actor,
        obj=draft,
        metadata={"from": source.number if source else None},
    )
    return draft


@transaction.atomic
def version_discard(*, version: AutomationVersion, actor: Any) -> None:
    _require(actor)
    locked = _locked_draft(version)
    if locked.runs.exists():  # pragma: no cover — drafts never run live
        raise AutomationError(_("该版本已有运行记录，不能删除。"))
    audit_record(action="automation.version_discard", actor=actor, obj=locked)
    locked.delete()


@transaction.atomic
def testcase_create(
    *, automation: Automation, name: str, input: dict[str, Any], expected_fire: bool, actor: Any
) -> AutomationTestCase:
    _require(actor)
    name = (name or "").strip()
    if not name:
        raise AutomationError(_("请填写用例名称。"), field_errors={"name": _("请填写用例名称。")})
    if not isinstance(input, dict):
        raise AutomationError(
            _("输入须为 JSON 对象。"), field_errors={"input": _("输入须为 JSON 对象。")}
        )
    case = AutomationTestCase.objects.create(
        automation=automation,
        name=name[:120],
        input=input,
        expected_fire=expected_fire,
        created_by=actor,
    )
    audit_record(
        action="automation.testcase_create",
        actor=actor,
        obj=case,
        metadata={"automation": automation.pk, "expected_fire": expected_fire},
    )
    return case


@transaction.atomic
def testcase_delete(*, case: AutomationTestCase, actor: Any) -> None:
    _require(actor)
    audit_record(
        action="automation.testcase_delete",
        actor=actor,
        obj=case,
        metadata={"automation": case.automation_id},
    )
    case.delete()


def run_tests(version: AutomationVersion) -> list[dict[str, Any]]:
    out = []
    for case in version.automation.test_cases.all():
        passed, fired, detail = engine.run_test_case(version, case)
        out.append({"case": case, "passed": passed, "fired": fired, "detail": detail})
    return out


def missing_permissions(version: AutomationVersion, user: Any) -> list[str]:
    kind = triggers.subject_kind(version.trigger or {})
    needed = [MANAGE, *action_types.required_permissions(version.actions or [], kind)]
    return [p for p in needed if not user.has_perm(p)]


@transaction.atomic
def version_publish(*, version: AutomationVersion, actor: Any) -> AutomationVersion:
    """Publish the draft: complete, every test case passing (at least one), and the publisher
    holding every permission its actions need (they run as the service identity). Retires the
    version published before."""
    _require(actor)
    Automation.objects.select_for_update().get(pk=version.automation_id)
    locked = _locked_draft(version)
    errors = validate_version(locked)
    if errors:
        raise AutomationError(_("自动化配置有误，请检查标出的项目。"), field_errors=errors)
    missing = missing_permissions(locked, actor)
    if missing:
        raise AutomationError(
            _("您没有这些动作所需的权限，不能发布：%(p)s") % {"p": "、".join(missing)}
        )
    results = run_tests(locked)
    if not results:
        raise AutomationError(_("发布前至少需要一个测试用例。"))
    failed = [r["case"].name for r in results if not r["passed"]]
    if failed:
        raise AutomationError(_("测试用例未通过：%(n)s") % {"n": "、".join(failed)})
    kind = triggers.subject_kind(locked.trigger or {})
    locked.granted = sorted(
        {MANAGE, *action_types.required_permissions(locked.actions or [], kind)}
    )
    try:
        retired = versioning.publish(
            locked,
            parent_field="automation",
            actor=actor,
            published_by_field="published_by",
            extra_update_fields=("granted",),
        )
    except fsm.TransitionRefused as exc:
        raise AutomationError(str(exc)) from None
    engine.start_scans(locked)
    audit_record(
        action="automation.version_publish",
        actor=actor,
        obj=locked,
        changes={"status": {"old": "draft", "new": "published"}},
        metadata={
            "retired": [v.number for v in retired],
            "granted": locked.granted,
            "tests": len(results),
        },
    )
    return locked


@transaction.atomic
def version_retire(*, version: AutomationVersion, actor: Any) -> AutomationVersion:
    """Stop a published automation (停用) without publishing another version."""
    _require(actor)
    locked = AutomationVersion.objects.select_for_update().get(pk=version.pk)
    try:
        fsm.transition(locked, AutomationVersion.Status.RETIRED, update_fields=("updated_at",))
    except fsm.TransitionRefused as exc:
        raise AutomationError(str(exc)) from None
    audit_record(
        action="automation.version_retire",
        actor=actor,
        obj=locked,
        changes={"status": {"old": "published", "new": "retired"}},
    )
    return locked
