"""Approval flows and their versions: default flows, definition validation, drafts, publish."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.models import Role
from credo.approvals.defaults import default_flows
from credo.approvals.designer import condition_error
from credo.approvals.errors import ApprovalError, InvalidDefinition, InvalidState
from credo.approvals.models import SAME_APPROVER_FLAG, ApprovalFlow, FlowVersion
from credo.core import versioning
from credo.core.audit.services import audit_record


def ensure_flow(key: str) -> ApprovalFlow:
    """The flow row; a registered default flow is installed as published v1 on first use."""
    flow = ApprovalFlow.objects.filter(key=key).first()
    if flow is not None and (key not in default_flows or flow.versions.exists()):
        return flow
    if key not in default_flows:
        raise ApprovalError(_("审批流 %(k)s 不存在。") % {"k": key}, code="not_found", status=404)
    name, definition = default_flows[key]
    try:
        with transaction.atomic():
            flow, _created = ApprovalFlow.objects.get_or_create(key=key, defaults={"name": name})
            if flow.versions.exists():
                return flow
            FlowVersion.objects.create(
                flow=flow,
                number=1,
                status=FlowVersion.Status.PUBLISHED,
                definition=json.loads(json.dumps(definition)),
                note=_("系统默认版本"),
                published_at=timezone.now(),
            )
            audit_record(action="approvals.default_installed", obj=flow, metadata={"key": key})
    except IntegrityError:  # installed concurrently
        flow = ApprovalFlow.objects.get(key=key)
    return flow


def ensure_default_flows() -> list[ApprovalFlow]:
    return [ensure_flow(key) for key, _default in default_flows.items()]


def _approver_error(approver: Any, where: str, roles: set[str], users: set[str]) -> str | None:
    if (
        not isinstance(approver, dict)
        or len(approver) != 1
        or not (set(approver) <= {"role", "user", "manager"})
    ):
        return _(
            '%(w)s：审批人必须是 {"role": "角色编码"}、{"user": "用户名"} '
            '或 {"manager": "上级的角色编码"}。'
        ) % {"w": where}
    if "role" in approver and approver["role"] not in roles:
        return _("%(w)s：角色“%(r)s”不存在。") % {"w": where, "r": approver["role"]}
    if "manager" in approver and approver["manager"] not in roles:
        return _("%(w)s：角色“%(r)s”不存在。") % {"w": where, "r": approver["manager"]}
    if "user" in approver and approver["user"] not in users:
        return _("%(w)s：用户“%(u)s”不存在或已停用。") % {"w": where, "u": approver["user"]}
    return None


def validate_definition(definition: Any) -> dict[str, Any]:
    """Raise ``InvalidDefinition`` listing every problem (Chinese), else return the definition."""
    if not isinstance(definition, dict) or not isinstance(definition.get("routes"), dict):
        raise InvalidDefinition(_('定义必须是 JSON 对象，并包含 "routes"。'))
    if not definition["routes"]:
        raise InvalidDefinition(_("至少需要一条审批路径。"))
    roles = set(Role.objects.values_list("code", flat=True))
    users = set(get_user_model().objects.filter(is_active=True).values_list("username", flat=True))
    problems: list[str] = []
    if SAME_APPROVER_FLAG in definition and not isinstance(definition[SAME_APPROVER_FLAG], bool):
        problems.append(
            _("%(f)s 必须是 true（允许同一人审批多个步骤）或 false（不允许，默认）。")
            % {"f": SAME_APPROVER_FLAG}
        )
    for code, route in definition["routes"].items():
        problems.extend(_route_problems(code, route, roles, users))
    if problems:
        raise InvalidDefinition("；".join(problems))
    return definition


def _route_problems(code: str, route: Any, roles: set[str], users: set[str]) -> list[str]:
    if not isinstance(route, dict):
        return [_("路径 %(c)s 必须是 JSON 对象。") % {"c": code}]
    problems: list[str] = []
    if not str(route.get("name") or "").strip():
        problems.append(_("路径 %(c)s 缺少名称。") % {"c": code})
    steps = route.get("steps")
    if not isinstance(steps, list):
        problems.append(_("路径 %(c)s 的 steps 必须是列表。") % {"c": code})
        return problems
    if not steps and code != "auto":
        problems.append(_("路径 %(c)s 没有审批步骤（只有 auto 路径可以没有步骤）。") % {"c": code})
    for i, step in enumerate(steps, 1):
        where = _("路径 %(c)s 第 %(i)d 步") % {"c": code, "i": i}
        problems.extend(_step_problems(step, where, roles, users))
    if steps and all(isinstance(s, dict) and s.get("condition") for s in steps):
        # if no condition held, the application would pass without anyone approving it
        problems.append(_("路径 %(c)s 至少需要一个没有条件的步骤。") % {"c": code})
    return problems


def _step_problems(step: Any, where: str, roles: set[str], users: set[str]) -> list[str]:
    if not isinstance(step, dict):
        return [_("%(w)s 必须是 JSON 对象。") % {"w": where}]
    problems: list[str] = []
    if not str(step.get("name") or "").strip():
        problems.append(_("%(w)s 缺少名称。") % {"w": where})
    if step.get("mode") not in ("all", "any"):
        problems.append(_("%(w)s：方式必须是 all（会签）或 any（或签）。") % {"w": where})
    approvers = step.get("approvers")
    if not isinstance(approvers, list) or not approvers:
        problems.append(_("%(w)s 没有审批人。") % {"w": where})
    else:
        for approver in approvers:
            error = _approver_error(approver, where, roles, users)
            if error:
                problems.append(error)
    hours = step.get("deadline_hours")
    if hours is not None and (not isinstance(hours, int) or hours < 0):
        problems.append(_("%(w)s：时限（小时）必须是非负整数。") % {"w": where})
    escalate = step.get("escalate_to")
    if escalate is not None:
        error = _approver_error(escalate, where + _("（升级对象）"), roles, users)
        if error:
            problems.append(error)
    condition = step.get("condition")
    if condition is not None and condition != "":
        problem = condition_error(condition) if isinstance(condition, str) else "not a string"
        if problem:
            problems.append(_("%(w)s：条件表达式无效：%(e)s") % {"w": where, "e": problem})
    max_amount = step.get("max_amount")
    if max_amount is not None and (
        not isinstance(max_amount, int) or isinstance(max_amount, bool) or max_amount <= 0
    ):
        problems.append(_("%(w)s：审批权限金额（分）必须是正整数。") % {"w": where})
    return problems


@transaction.atomic
def flow_version_create(*, flow: ApprovalFlow, actor: Any) -> FlowVersion:
    """A new draft copied from the latest version (one open draft per flow)."""
    flow = ApprovalFlow.objects.select_for_update().get(pk=flow.pk)
    if flow.versions.filter(status=FlowVersion.Status.DRAFT).exists():
        raise InvalidState(_("该审批流已有草稿，请先编辑或发布现有草稿。"))
    source = flow.versions.order_by("-number").first()
    number = (flow.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    version = FlowVersion.objects.create(
        flow=flow,
        number=number,
        definition=source.definition if source else {"routes": {}},
        created_by=actor,
    )
    audit_record(
        action="approvals.version_create",
        actor=actor,
        obj=version,
        metadata={"flow": flow.key, "number": number},
    )
    return version


@transaction.atomic
def flow_version_update(
    *, version: FlowVersion, definition: Any, actor: Any, note: str | None = None
) -> FlowVersion:
    version = (
        FlowVersion.objects.select_for_update(of=("self",))
        .select_related("flow")
        .get(pk=version.pk)
    )
    if version.status != FlowVersion.Status.DRAFT:
        raise InvalidState(_("只有草稿可以修改；已发布的版本请新建草稿。"))
    validate_definition(definition)
    changed = version.definition != definition
    version.definition = definition
    if note is not None:
        version.note = note[:200]
    version.save()
    audit_record(
        action="approvals.version_update",
        actor=actor,
        obj=version,
        metadata={"flow": version.flow.key, "number": version.number, "changed": changed},
    )
    return version


@transaction.atomic
def flow_version_publish(*, version: FlowVersion, actor: Any) -> FlowVersion:
    """Publish a draft; the previous published version is retired. Running instances keep the
    version they were started with."""
    flow = ApprovalFlow.objects.select_for_update().get(pk=version.flow_id)
    version = FlowVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != FlowVersion.Status.DRAFT:
        raise InvalidState(_("只有草稿可以发布。"))
    validate_definition(version.definition)
    retired = versioning.publish(
        version, parent_field="flow", actor=actor, published_by_field="published_by"
    )
    previous = retired[0] if retired else None
    audit_record(
        action="approvals.version_publish",
        actor=actor,
        obj=version,
        changes={"published": [getattr(previous, "number", None), version.number]},
        metadata={"flow": flow.key},
    )
    return version
