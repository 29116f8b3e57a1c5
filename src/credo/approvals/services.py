"""Approval flows: start an instance, act on tasks, resume after a return, escalate overdue tasks,
and edit/publish flow versions.

Semantics (documented for the apps that use this one):

* A step lists approver entries ("slots"): ``{"role": code}`` or ``{"user": username}``. A role
  slot gets one task per holder of the role (the applicant excluded; for ``branch_scoped`` steps
  the holders in the applicant's branch are preferred). Within a slot the first approval fills
  the slot and the slot's other tasks are skipped.
* 会签 ``mode="all"``: the step completes when every slot is approved.
  或签 ``mode="any"``: the step completes with the first approval (other tasks skipped).
  In both modes one rejection rejects the whole instance.
* 退回补充 ``return``: the instance waits for the applicant's answer (``approval_resume``); the
  same step then restarts from scratch (approvals given before the answer do not count).
* Refused actions raise ``ApprovalError`` (Chinese ``message``), change nothing and are audited
  as ``approval.refused`` (metadata: action, code, message and, for a conflict, reason).
* Segregation of duties (``selectors.approval_conflicts``): the instance's owner (applicant),
  the subject's creator and the submitter never get, take, receive by transfer or act on a task
  of the instance; unless the flow version sets ``allow_same_approver_across_steps: true``,
  neither does whoever decided an earlier step, and one person fills at most one 会签 slot.
  A slot whose every candidate must stay away goes to the step's ``escalate_to``; when nobody
  is left there either, the action that opens the step is refused (``no_approver``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.models import OrgUnit, Role
from credo.approvals.defaults import DEFAULT_FLOWS
from credo.approvals.errors import (
    ApprovalError,
    ConflictOfInterest,
    InvalidDefinition,
    InvalidState,
    NotAllowed,
)
from credo.approvals.models import (
    SAME_APPROVER_FLAG,
    ApprovalAction,
    ApprovalFlow,
    ApprovalInstance,
    ApprovalTask,
    FlowVersion,
)
from credo.approvals.selectors import approval_conflicts, conflict_message, subject_of
from credo.core.audit.services import audit_record
from credo.core.todo.models import Todo
from credo.core.todo.services import todo_cancel_by_key, todo_complete, todo_create

logger = logging.getLogger("credo.approvals")
ROUTE_DECISION = "approvals.route"
ACTIONS = ("approve", "reject", "return", "transfer")
ACTIVE_STATES = (ApprovalInstance.Status.RUNNING, ApprovalInstance.Status.RETURNED)

Listener = Callable[[ApprovalInstance, str], None]
_LISTENERS: dict[str, list[Listener]] = {}


# --- listeners -----------------------------------------------------------------------------------
def register_outcome_listener(flow_key: str, callback: Listener) -> None:
    """``callback(instance, outcome)`` with outcome approved / rejected / returned, called inside
    the transaction of the deciding action (an exception rolls the action back)."""
    callbacks = _LISTENERS.setdefault(flow_key, [])
    if callback not in callbacks:
        callbacks.append(callback)


def _notify(instance: ApprovalInstance, outcome: str) -> None:
    for callback in list(_LISTENERS.get(instance.flow_version.flow.key, [])):
        callback(instance, outcome)


# --- flows and versions --------------------------------------------------------------------------
def ensure_flow(key: str) -> ApprovalFlow:
    """The flow row; a registered default flow is installed as published v1 on first use."""
    flow = ApprovalFlow.objects.filter(key=key).first()
    if flow is not None and (key not in DEFAULT_FLOWS or flow.versions.exists()):
        return flow
    if key not in DEFAULT_FLOWS:
        raise ApprovalError(_("审批流 %(k)s 不存在。") % {"k": key}, code="not_found", status=404)
    name, definition = DEFAULT_FLOWS[key]
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
    return [ensure_flow(key) for key in DEFAULT_FLOWS]


def _approver_error(approver: Any, where: str, roles: set[str], users: set[str]) -> str | None:
    if (
        not isinstance(approver, dict)
        or len(approver) != 1
        or not (set(approver) <= {"role", "user"})
    ):
        return _('%(w)s：审批人必须是 {"role": "角色编码"} 或 {"user": "用户名"}。') % {"w": where}
    if "role" in approver and approver["role"] not in roles:
        return _("%(w)s：角色“%(r)s”不存在。") % {"w": where, "r": approver["role"]}
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
        if not isinstance(route, dict):
            problems.append(_("路径 %(c)s 必须是 JSON 对象。") % {"c": code})
            continue
        if not str(route.get("name") or "").strip():
            problems.append(_("路径 %(c)s 缺少名称。") % {"c": code})
        steps = route.get("steps")
        if not isinstance(steps, list):
            problems.append(_("路径 %(c)s 的 steps 必须是列表。") % {"c": code})
            continue
        if not steps and code != "auto":
            problems.append(
                _("路径 %(c)s 没有审批步骤（只有 auto 路径可以没有步骤）。") % {"c": code}
            )
        for i, step in enumerate(steps, 1):
            where = _("路径 %(c)s 第 %(i)d 步") % {"c": code, "i": i}
            if not isinstance(step, dict):
                problems.append(_("%(w)s 必须是 JSON 对象。") % {"w": where})
                continue
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
            max_amount = step.get("max_amount")
            if max_amount is not None and (
                not isinstance(max_amount, int) or isinstance(max_amount, bool) or max_amount <= 0
            ):
                problems.append(_("%(w)s：审批权限金额（分）必须是正整数。") % {"w": where})
    if problems:
        raise InvalidDefinition("；".join(problems))
    return definition


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
    version = FlowVersion.objects.select_for_update().select_related("flow").get(pk=version.pk)
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
    previous = flow.versions.filter(status=FlowVersion.Status.PUBLISHED).first()
    if previous is not None:
        previous.status = FlowVersion.Status.RETIRED
        previous.save(update_fields=["status", "updated_at"])
    version.status = FlowVersion.Status.PUBLISHED
    version.published_by = actor
    version.published_at = timezone.now()
    version.save()
    audit_record(
        action="approvals.version_publish",
        actor=actor,
        obj=version,
        changes={"published": [getattr(previous, "number", None), version.number]},
        metadata={"flow": flow.key},
    )
    return version


# --- helpers -------------------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _amount_yuan(amount: Any) -> int | float:
    fen = int(amount or 0)
    # the route table compares yuan; whole yuan stay integers, cents need the fraction
    return fen // 100 if fen % 100 == 0 else fen / 100


def _user(pk: Any) -> Any:
    if pk in (None, ""):
        return None
    try:
        return get_user_model().objects.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def _in_branch(users: list[Any], branch: OrgUnit | None) -> list[Any]:
    if branch is None:
        return []
    return [u for u in users if u.org_unit is not None and u.org_unit.branch == branch]


def _resolve(
    approver: dict[str, Any],
    instance: ApprovalInstance,
    *,
    branch_scoped: bool = False,
    exclude: set[int] | None = None,
) -> list[Any]:
    """Active users for an approver entry, the applicant (and ``exclude``) left out."""
    exclude = set(exclude or set())
    if instance.applicant_id:
        exclude.add(instance.applicant_id)
    qs = get_user_model().objects.filter(is_active=True).exclude(pk__in=exclude)
    if "role" in approver:
        qs = qs.filter(roles__code=approver["role"])
    elif "user" in approver:
        qs = qs.filter(username=approver["user"])
    else:
        return []
    users = list(qs.select_related("org_unit__parent__parent").distinct().order_by("id"))
    if branch_scoped:
        preferred = _in_branch(users, instance.branch)
        if preferred:
            return preferred
    return users


def _may_act(task: ApprovalTask, user: Any) -> bool:
    if task.assignee_id == user.pk:
        return True
    return bool(task.role) and user.roles.filter(code=task.role).exists()


def _log(
    instance: ApprovalInstance,
    kind: str,
    *,
    actor: Any = None,
    task: ApprovalTask | None = None,
    comment: str = "",
    amount: int | None = None,
    months: int | None = None,
    detail: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> ApprovalAction:
    return ApprovalAction.objects.create(
        instance=instance,
        task=task,
        step=task.step if task is not None else instance.current_step,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        comment=comment,
        amount=amount,
        months=months,
        detail=_jsonable(detail or {}),
        created_at=now or timezone.now(),
    )


def _customer_of(instance: ApprovalInstance) -> Any:
    """The customer of the subject (a Customer, or anything with a ``customer``), for the
    customer timeline; None when the subject has none."""
    subject = subject_of(instance)
    if subject is None:
        return None
    if subject._meta.label_lower == "customers.customer":
        return subject
    customer = getattr(subject, "customer", None)
    if customer is not None and customer._meta.label_lower == "customers.customer":
        return customer
    return None


def _timeline(instance: ApprovalInstance, title: str, actor: Any, detail: dict[str, Any]) -> None:
    customer = _customer_of(instance)
    if customer is None:
        return
    from credo.customers.events import record_event
    from credo.customers.models import CustomerEvent

    record_event(
        customer=customer,
        kind=CustomerEvent.Kind.DECISION,
        title=title,
        actor=actor,
        obj=instance,
        source="approvals",
        detail=_jsonable(detail),
    )


def _send(template: str, *, user: Any, context: dict[str, Any], url: str, key: str) -> None:
    """In-app notification through the notify app when it is installed. A failing notification
    must not undo an approval decision, so it runs in its own savepoint and is only logged."""
    from django.apps import apps

    if user is None or not apps.is_installed("credo.notify"):
        return
    try:
        from credo.notify.services import notify

        with transaction.atomic():
            notify(template=template, context=context, user=user, url=url, dedupe_key=key)
    except Exception:  # noqa: BLE001 - see docstring
        logger.warning(
            "approval notification %s to user %s failed", template, user.pk, exc_info=True
        )


def _task_url(task: ApprovalTask) -> str:
    return reverse("approvals:task_detail", args=[task.pk])


def _create_task(
    instance: ApprovalInstance,
    *,
    step_index: int,
    slot: int,
    user: Any,
    role: str,
    now: dt.datetime,
    previous: ApprovalTask | None = None,
) -> ApprovalTask:
    step = instance.steps[step_index]
    hours = step.get("deadline_hours")
    due = now + dt.timedelta(hours=hours) if hours else None
    task = ApprovalTask.objects.create(
        instance=instance,
        step=step_index,
        round=instance.round,
        slot=slot,
        step_name=str(step.get("name") or "")[:120],
        mode=step.get("mode") or "any",
        role=role,
        assignee=user,
        due_at=due,
        created_at=now,
        previous=previous,
    )
    todo_create(
        user=user,
        title=_("审批：%(t)s") % {"t": instance.title},
        description=_("%(s)s（%(r)s）") % {"s": task.step_name, "r": instance.route_name},
        due_date=timezone.localdate(due) if due else None,
        url=_task_url(task),
        source="approvals",
        priority=Todo.Priority.HIGH,
        dedupe_key=f"approval-task:{task.pk}",
    )
    _send(
        "approvals.task_assigned",
        user=user,
        context={"title": instance.title, "step": task.step_name, "route": instance.route_name},
        url=_task_url(task),
        key=f"approval-task:{task.pk}",
    )
    return task


def _close_task(
    task: ApprovalTask,
    status: str,
    *,
    actor: Any = None,
    comment: str = "",
    amount: int | None = None,
    months: int | None = None,
    now: dt.datetime | None = None,
) -> None:
    task.status = status
    task.decided_at = now or timezone.now()
    task.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    task.comment = comment
    task.amount = amount
    task.months = months
    task.save()
    key = f"approval-task:{task.pk}"
    todo = Todo.objects.filter(user=task.assignee, dedupe_key=key, status=Todo.Status.OPEN).first()
    if todo is None:
        return
    if actor is not None and actor.pk == task.assignee_id and status != task.Status.TRANSFERRED:
        todo_complete(todo=todo, actor=actor)
    else:
        todo_cancel_by_key(user=task.assignee, dedupe_key=key, actor=actor)


def _activate_step(instance: ApprovalInstance, index: int, *, now: dt.datetime) -> None:
    step = instance.steps[index]
    strict = not instance.flow_version.allows_same_approver
    conflicts = approval_conflicts(instance, step=index)
    assigned: set[int] = set()
    for slot, approver in enumerate(step.get("approvers") or []):
        scoped = bool(step.get("branch_scoped"))
        users = _resolve(approver, instance, branch_scoped=scoped, exclude=set(conflicts))
        if not users and not _resolve(approver, instance, branch_scoped=scoped):
            raise ApprovalError(
                _("步骤“%(s)s”找不到可指派的审批人（%(a)s），请联系管理员配置。")
                % {"s": step.get("name"), "a": approver.get("role") or approver.get("user")},
                code="no_approver",
            )
        # a person holding several roles of a 会签 step fills one slot; only a flow that allows
        # the same approver twice lets them fill another slot nobody else can
        fresh = [u for u in users if u.pk not in assigned]
        if not fresh and not strict:
            fresh = users
        role = str(approver.get("role") or "")
        if not fresh:
            # everyone who could fill the slot must stay away: the step's escalation target
            # takes it (never the excluded people), else the step cannot open
            fresh, role = _conflict_fallback(
                instance, index, step, slot, exclude=set(conflicts) | assigned, now=now
            )
        for user in fresh:
            _create_task(instance, step_index=index, slot=slot, user=user, role=role, now=now)
            assigned.add(user.pk)


def _conflict_fallback(
    instance: ApprovalInstance,
    index: int,
    step: dict[str, Any],
    slot: int,
    *,
    exclude: set[int],
    now: dt.datetime,
) -> tuple[list[Any], str]:
    target = step.get("escalate_to")
    if not isinstance(target, dict):
        target = {}
    users = _resolve(target, instance, exclude=exclude) if target else []
    if not users:
        raise ApprovalError(
            _(
                "步骤“%(s)s”的审批人都需回避（申请人、创建人、提交人或已审批过本申请的人），"
                "也没有可升级的审批人，请联系管理员调整审批人配置。"
            )
            % {"s": step.get("name")},
            code="no_approver",
        )
    _log(
        instance,
        ApprovalAction.Kind.ESCALATE,
        now=now,
        detail={
            "reason": "conflict_of_interest",
            "step": index,
            "slot": slot,
            "to": [u.pk for u in users],
            "to_names": [str(u) for u in users],
        },
    )
    audit_record(
        action="approval.escalate",
        obj=instance,
        metadata={"reason": "conflict_of_interest", "step": index, "slot": slot},
    )
    return users, str(target.get("role") or "")


def _skip_open(
    instance: ApprovalInstance, step: int, *, slot: int | None = None, now: dt.datetime
) -> None:
    qs = instance.tasks.filter(step=step, round=instance.round, status=ApprovalTask.Status.OPEN)
    if slot is not None:
        qs = qs.filter(slot=slot)
    for task in qs.select_related("assignee"):
        _close_task(task, ApprovalTask.Status.SKIPPED, now=now)


def _finish(
    instance: ApprovalInstance, status: str, *, actor: Any, now: dt.datetime, comment: str = ""
) -> None:
    instance.status = status
    instance.decided_at = now
    instance.save()
    _log(
        instance,
        ApprovalAction.Kind.FINISH,
        actor=actor,
        comment=comment,
        now=now,
        detail={
            "status": status,
            "amount": instance.decided_amount,
            "months": instance.decided_months,
        },
    )
    audit_record(
        action=f"approval.{status}",
        actor=actor,
        obj=instance,
        metadata={
            "decided_amount": instance.decided_amount,
            "decided_months": instance.decided_months,
        },
    )
    # no timeline event here: each decisive step action has its own, and the subject's app
    # records its own outcome (e.g. the application's 审批通过) from the listener
    _notify(instance, status)


def _refused(
    actor: Any, task: ApprovalTask | None, instance_id: Any, action: str, exc: ApprovalError
) -> None:
    with transaction.atomic():
        audit_record(
            action="approval.refused",
            actor=actor,
            object_type="approvals.approvalinstance",
            object_id=instance_id or "",
            metadata={
                "task": getattr(task, "pk", None),
                "action": action,
                "code": exc.code,
                "message": exc.message,
                **({"reason": exc.reason} if isinstance(exc, ConflictOfInterest) else {}),
            },
        )


# --- start ---------------------------------------------------------------------------------------
def approval_start(
    *, subject: Any, flow_key: str, context: dict[str, Any], actor: Any, title: str, url: str = ""
) -> ApprovalInstance:
    """Route the subject with the ``approvals.route`` decision and start the pinned flow version.
    Route ``auto`` (or a route without steps) approves at once."""
    from credo.rules.services import evaluate

    ensure_flow(flow_key)
    ctx = _jsonable(dict(context or {}))
    subject_type = subject._meta.label_lower
    subject_id = str(subject.pk)
    now = timezone.now()
    with transaction.atomic():
        flow = ApprovalFlow.objects.select_for_update().get(key=flow_key)
        version = flow.versions.filter(status=FlowVersion.Status.PUBLISHED).first()
        if version is None:
            raise InvalidState(_("审批流 %(k)s 没有已发布的版本。") % {"k": flow_key})
        running = ApprovalInstance.objects.filter(
            subject_type=subject_type, subject_id=subject_id, status__in=ACTIVE_STATES
        )
        if running.exists():
            raise InvalidState(_("该业务已有进行中的审批，不能重复发起。"))
        data = {"flow": flow_key, **ctx, "amount_yuan": _amount_yuan(ctx.get("amount"))}
        decision = evaluate(ROUTE_DECISION, data, subject=subject)
        code = str(decision.result.get("route") or "")
        route = version.route(code)
        if route is None:
            raise InvalidDefinition(
                _("审批路径“%(c)s”未在审批流 %(k)s v%(n)d 中定义。")
                % {"c": code, "k": flow_key, "n": version.number}
            )
        owner = _user(ctx.get("applicant_id")) or actor
        branch = None
        if ctx.get("branch"):
            branch = OrgUnit.objects.filter(code=str(ctx["branch"])).first()
        if branch is None and owner is not None:
            branch = owner.branch
        instance = ApprovalInstance.objects.create(
            flow_version=version,
            subject_type=subject_type,
            subject_id=subject_id,
            title=(title or str(subject))[:200],
            url=url[:500],
            context=ctx,
            route=code,
            route_name=str(route.get("name") or code)[:120],
            route_reason=str(decision.result.get("reason") or "")[:300],
            route_evaluation=decision.evaluation,
            owner=owner,
            team=owner.team if owner is not None else None,
            branch=branch,
            subject_creator_id=_creator_of(subject),
            started_by=actor,
            started_at=now,
        )
        _log(
            instance,
            ApprovalAction.Kind.START,
            actor=actor,
            amount=ctx.get("amount") if isinstance(ctx.get("amount"), int) else None,
            months=ctx.get("months") if isinstance(ctx.get("months"), int) else None,
            now=now,
            detail={
                "route": code,
                "reason": instance.route_reason,
                "decision": decision.version_label,
                "reasons": decision.reasons,
                "flow_version": version.number,
            },
        )
        audit_record(
            action="approval.start",
            actor=actor,
            obj=instance,
            metadata={
                "flow": flow_key,
                "flow_version": version.number,
                "route": code,
                "decision": decision.version_label,
                "subject": f"{subject_type}#{subject_id}",
            },
        )
        _timeline(
            instance,
            _("发起审批（%(r)s）：%(t)s") % {"r": instance.route_name, "t": instance.title},
            actor,
            {"route": code, "reason": instance.route_reason},
        )
        if code == "auto" or not instance.steps:
            _log(instance, ApprovalAction.Kind.AUTO, comment=instance.route_reason, now=now)
            _finish(instance, ApprovalInstance.Status.APPROVED, actor=None, now=now)
        else:
            _activate_step(instance, 0, now=now)
    return instance


def _creator_of(subject: Any) -> int | None:
    """The subject's creator when its model records one (``created_by``), for segregation of
    duties."""
    value = getattr(subject, "created_by_id", None)
    return value if isinstance(value, int) else None


# --- act -----------------------------------------------------------------------------------------
def approval_act(
    *,
    task: ApprovalTask,
    actor: Any,
    action: str,
    comment: str = "",
    amount: int | None = None,
    months: int | None = None,
    transfer_to: Any = None,
) -> ApprovalInstance:
    try:
        with transaction.atomic():
            return _act(
                task_id=task.pk,
                actor=actor,
                action=action,
                comment=(comment or "").strip(),
                amount=amount,
                months=months,
                transfer_to=transfer_to,
            )
    except ApprovalError as exc:
        _refused(actor, task, task.instance_id, action, exc)
        raise


def _act(
    *,
    task_id: int,
    actor: Any,
    action: str,
    comment: str,
    amount: int | None,
    months: int | None,
    transfer_to: Any,
) -> ApprovalInstance:
    now = timezone.now()
    instance_id = ApprovalTask.objects.values_list("instance_id", flat=True).get(pk=task_id)
    # lock order: instance, then task (every writer follows it)
    instance = (
        ApprovalInstance.objects.select_for_update()
        .select_related("flow_version__flow")
        .get(pk=instance_id)
    )
    task = ApprovalTask.objects.select_for_update().select_related("assignee").get(pk=task_id)
    if action not in ACTIONS:
        raise ApprovalError(_("未知的审批动作：%(a)s") % {"a": action})
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAllowed(_("请先登录。"))
    # segregation of duties, for every action and every channel (page, API, ...)
    reason = approval_conflicts(instance, step=task.step, slot=task.slot).get(actor.pk)
    if reason:
        raise ConflictOfInterest(conflict_message(reason), reason=reason)
    if not _may_act(task, actor):
        raise NotAllowed(_("您不是该审批任务的审批人。"))
    if instance.status != ApprovalInstance.Status.RUNNING:
        raise InvalidState(
            _("该审批当前状态为“%(s)s”，不能处理。") % {"s": instance.get_status_display()}
        )
    if task.status != ApprovalTask.Status.OPEN:
        raise InvalidState(_("该审批任务已处理（%(s)s）。") % {"s": task.get_status_display()})
    if task.step != instance.current_step or task.round != instance.round:
        raise InvalidState(_("该审批任务已失效。"))
    if (amount is not None or months is not None) and action != "approve":
        raise ApprovalError(_("只有批准时可以调整金额或期限。"))
    step = instance.steps[task.step]
    if action == "approve":
        _approve(
            instance,
            task,
            step,
            actor=actor,
            comment=comment,
            amount=amount,
            months=months,
            now=now,
        )
    elif action == "reject":
        if not comment:
            raise ApprovalError(_("请填写拒绝原因。"))
        _close_task(task, ApprovalTask.Status.REJECTED, actor=actor, comment=comment, now=now)
        _log(instance, ApprovalAction.Kind.REJECT, actor=actor, task=task, comment=comment, now=now)
        _skip_open(instance, task.step, now=now)
        _timeline(
            instance,
            _("%(s)s：%(u)s 拒绝") % {"s": task.step_name, "u": actor},
            actor,
            {"task": task.pk, "comment": comment},
        )
        _finish(instance, ApprovalInstance.Status.REJECTED, actor=actor, now=now, comment=comment)
    elif action == "return":
        _return(instance, task, actor=actor, comment=comment, now=now)
    else:
        _transfer(instance, task, step, actor=actor, comment=comment, target=transfer_to, now=now)
    return instance


def _approve(
    instance: ApprovalInstance,
    task: ApprovalTask,
    step: dict[str, Any],
    *,
    actor: Any,
    comment: str,
    amount: int | None,
    months: int | None,
    now: dt.datetime,
) -> None:
    current_amount, current_months = instance.amount, instance.months
    if amount is not None:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ApprovalError(_("批准金额必须大于 0。"))
        if current_amount is not None and amount > current_amount:
            raise ApprovalError(_("批准金额不能高于当前申请金额，只能调低。"), code="raise_refused")
    if months is not None:
        if isinstance(months, bool) or not isinstance(months, int) or months < 1:
            raise ApprovalError(_("批准期限必须是至少 1 个月的整数。"))
        if current_months is not None and months > current_months:
            raise ApprovalError(_("批准期限不能长于当前申请期限，只能缩短。"), code="raise_refused")
    effective = amount if amount is not None else current_amount
    max_amount = step.get("max_amount")
    if max_amount is not None and effective is not None and effective > max_amount:
        raise NotAllowed(
            _("金额 %(a)s 元超出本级审批权限（最高 %(m)s 元），请调低金额或转交上级。")
            % {"a": f"{effective / 100:,.2f}", "m": f"{max_amount / 100:,.2f}"},
            code="above_authority",
        )
    _close_task(
        task,
        ApprovalTask.Status.APPROVED,
        actor=actor,
        comment=comment,
        amount=amount,
        months=months,
        now=now,
    )
    if amount is not None and amount != current_amount:
        instance.decided_amount = amount
    if months is not None and months != current_months:
        instance.decided_months = months
    _log(
        instance,
        ApprovalAction.Kind.APPROVE,
        actor=actor,
        task=task,
        comment=comment,
        amount=amount,
        months=months,
        now=now,
        detail={"before": {"amount": current_amount, "months": current_months}},
    )
    audit_record(
        action="approval.approve",
        actor=actor,
        obj=instance,
        changes={
            "amount": {"before": current_amount, "after": instance.amount},
            "months": {"before": current_months, "after": instance.months},
        }
        if (amount is not None or months is not None)
        else None,
        metadata={"task": task.pk, "step": task.step},
    )
    _timeline(
        instance,
        _("%(s)s：%(u)s 批准") % {"s": task.step_name, "u": actor},
        actor,
        {"task": task.pk, "comment": comment, "amount": amount, "months": months},
    )
    round_tasks = list(instance.tasks.filter(step=task.step, round=instance.round))
    approved = {t.slot for t in round_tasks if t.status == ApprovalTask.Status.APPROVED}
    slots = set(range(len(step.get("approvers") or []))) or {0}
    done = bool(approved) if step.get("mode") == "any" else slots <= approved
    if not done:
        _skip_open(instance, task.step, slot=task.slot, now=now)
        instance.save()
        return
    _skip_open(instance, task.step, now=now)
    _log(
        instance,
        ApprovalAction.Kind.STEP_DONE,
        task=task,
        now=now,
        detail={"step": task.step, "name": task.step_name},
    )
    following = task.step + 1
    if following < len(instance.steps):
        instance.current_step = following
        instance.save()
        _activate_step(instance, following, now=now)
    else:
        _finish(instance, ApprovalInstance.Status.APPROVED, actor=actor, now=now)


def _return(
    instance: ApprovalInstance, task: ApprovalTask, *, actor: Any, comment: str, now: dt.datetime
) -> None:
    if not comment:
        raise ApprovalError(_("请填写需要申请人补充说明的问题。"))
    _close_task(task, ApprovalTask.Status.RETURNED, actor=actor, comment=comment, now=now)
    _skip_open(instance, task.step, now=now)
    instance.status = ApprovalInstance.Status.RETURNED
    instance.question = comment
    instance.save()
    _log(instance, ApprovalAction.Kind.RETURN, actor=actor, task=task, comment=comment, now=now)
    audit_record(
        action="approval.return",
        actor=actor,
        obj=instance,
        metadata={"task": task.pk, "step": task.step},
    )
    _timeline(
        instance,
        _("%(s)s：%(u)s 退回补充") % {"s": task.step_name, "u": actor},
        actor,
        {"task": task.pk, "question": comment},
    )
    owner = instance.owner
    if owner is not None:
        todo_create(
            user=owner,
            title=_("补充资料：%(t)s") % {"t": instance.title},
            description=comment,
            url=instance.url or reverse("approvals:instance_detail", args=[instance.pk]),
            source="approvals",
            priority=Todo.Priority.HIGH,
            dedupe_key=f"approval-return:{instance.pk}",
        )
        _send(
            "approvals.returned",
            user=owner,
            context={"title": instance.title, "question": comment, "step": task.step_name},
            url=instance.url or reverse("approvals:instance_detail", args=[instance.pk]),
            key=f"approval-return:{instance.pk}:{task.pk}",
        )
    _notify(instance, "returned")


def _transfer(
    instance: ApprovalInstance,
    task: ApprovalTask,
    step: dict[str, Any],
    *,
    actor: Any,
    comment: str,
    target: Any,
    now: dt.datetime,
) -> None:
    user_model = get_user_model()
    if target is not None and not isinstance(target, user_model):
        target = (
            user_model.objects.filter(pk=target).first()
            if str(target).isdigit()
            else (user_model.objects.filter(username=str(target)).first())
        )
    if target is None or not target.is_active:
        raise ApprovalError(_("请选择有效的转交对象。"))
    if target.pk in (actor.pk, task.assignee_id):
        raise ApprovalError(_("不能转交给自己。"))
    reason = approval_conflicts(instance, step=task.step, slot=task.slot).get(target.pk)
    if reason:
        raise ConflictOfInterest(conflict_message(reason, target=True), reason=reason)
    if task.role:
        if not target.roles.filter(code=task.role).exists():
            role = Role.objects.filter(code=task.role).first()
            raise NotAllowed(
                _("转交对象必须具有该步骤的角色“%(r)s”。") % {"r": role.name if role else task.role}
            )
    elif not target.has_perm("approvals.view_approvalinstance"):
        raise NotAllowed(_("转交对象没有审批权限。"))
    if instance.tasks.filter(
        step=task.step, round=instance.round, assignee=target, status=ApprovalTask.Status.OPEN
    ).exists():
        raise ApprovalError(_("转交对象在该步骤已有待处理的审批任务。"))
    _close_task(task, ApprovalTask.Status.TRANSFERRED, actor=actor, comment=comment, now=now)
    new = _create_task(
        instance,
        step_index=task.step,
        slot=task.slot,
        user=target,
        role=task.role,
        now=now,
        previous=task,
    )
    _log(
        instance,
        ApprovalAction.Kind.TRANSFER,
        actor=actor,
        task=task,
        comment=comment,
        now=now,
        detail={"to": target.pk, "to_name": str(target), "new_task": new.pk},
    )
    audit_record(
        action="approval.transfer",
        actor=actor,
        obj=instance,
        metadata={"task": task.pk, "new_task": new.pk, "to": target.pk},
    )
    instance.save()


# --- resume --------------------------------------------------------------------------------------
def approval_resume(*, instance: ApprovalInstance, actor: Any, answer: str) -> ApprovalInstance:
    """After 退回补充: the applicant answers and the same step restarts."""
    try:
        with transaction.atomic():
            now = timezone.now()
            locked = (
                ApprovalInstance.objects.select_for_update()
                .select_related("flow_version__flow")
                .get(pk=instance.pk)
            )
            if locked.status != ApprovalInstance.Status.RETURNED:
                raise InvalidState(_("该审批不在“退回补充”状态。"))
            allowed = {locked.applicant_id, locked.owner_id, locked.started_by_id} - {None}
            if actor is None or actor.pk not in allowed:
                raise NotAllowed(_("只有申请人可以补充说明后重新提交。"))
            answer = (answer or "").strip()
            if not answer:
                raise ApprovalError(_("请填写补充说明。"))
            locked.status = ApprovalInstance.Status.RUNNING
            locked.round += 1
            question, locked.question = locked.question, ""
            locked.save()
            _log(
                locked,
                ApprovalAction.Kind.RESUME,
                actor=actor,
                comment=answer,
                now=now,
                detail={"question": question},
            )
            audit_record(
                action="approval.resume",
                actor=actor,
                obj=locked,
                metadata={"step": locked.current_step, "round": locked.round},
            )
            if locked.owner is not None:
                todo_cancel_by_key(
                    user=locked.owner, dedupe_key=f"approval-return:{locked.pk}", actor=actor
                )
            _activate_step(locked, locked.current_step, now=now)
            # the subject's app moves back to "in approval" (outcome "resumed")
            _notify(locked, "resumed")
            return locked
    except ApprovalError as exc:
        _refused(actor, None, instance.pk, "resume", exc)
        raise


@transaction.atomic
def approval_cancel(
    *, instance: ApprovalInstance, actor: Any, reason: str = ""
) -> ApprovalInstance:
    """Withdraw a running or returned instance (e.g. the application was withdrawn)."""
    instance = ApprovalInstance.objects.select_for_update().get(pk=instance.pk)
    if instance.status not in ACTIVE_STATES:
        raise InvalidState(_("该审批已结束，不能撤销。"))
    now = timezone.now()
    for task in instance.tasks.filter(status=ApprovalTask.Status.OPEN).select_related("assignee"):
        _close_task(task, ApprovalTask.Status.SKIPPED, now=now)
    if instance.owner is not None:
        todo_cancel_by_key(user=instance.owner, dedupe_key=f"approval-return:{instance.pk}")
    instance.status = ApprovalInstance.Status.CANCELLED
    instance.decided_at = now
    instance.save()
    _log(
        instance,
        ApprovalAction.Kind.FINISH,
        actor=actor,
        comment=reason,
        now=now,
        detail={"status": "cancelled"},
    )
    audit_record(
        action="approval.cancelled", actor=actor, obj=instance, metadata={"reason": reason}
    )
    return instance


# --- escalation ----------------------------------------------------------------------------------
def approvals_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Open tasks past ``due_at`` go to the step's ``escalate_to`` (one level: a task that was
    itself created by escalation is not escalated again). Returns the number escalated."""
    now = now or timezone.now()
    candidates = list(
        ApprovalTask.objects.filter(
            status=ApprovalTask.Status.OPEN,
            due_at__lt=now,
            instance__status=ApprovalInstance.Status.RUNNING,
        )
        .order_by("id")
        .values_list("pk", "instance_id")[:1000]
    )
    count = 0
    for task_id, instance_id in candidates:
        with transaction.atomic():
            instance = (
                ApprovalInstance.objects.select_for_update()
                .select_related("flow_version__flow")
                .get(pk=instance_id)
            )
            task = ApprovalTask.objects.select_for_update().get(pk=task_id)
            if task.status != ApprovalTask.Status.OPEN or task.due_at is None or task.due_at >= now:
                continue
            if instance.status != ApprovalInstance.Status.RUNNING:
                continue
            if task.previous is not None and task.previous.status == ApprovalTask.Status.ESCALATED:
                continue
            step = instance.steps[task.step]
            target = step.get("escalate_to")
            if not isinstance(target, dict):
                continue
            busy = set(
                instance.tasks.filter(
                    step=task.step, round=instance.round, status=ApprovalTask.Status.OPEN
                ).values_list("assignee_id", flat=True)
            )
            conflicts = approval_conflicts(instance, step=task.step, slot=task.slot)
            users = _resolve(target, instance, exclude=busy | {task.assignee_id} | set(conflicts))
            if not users:
                continue
            _close_task(task, ApprovalTask.Status.ESCALATED, now=now)
            new_ids = []
            for user in users:
                new = _create_task(
                    instance,
                    step_index=task.step,
                    slot=task.slot,
                    user=user,
                    role=str(target.get("role") or ""),
                    now=now,
                    previous=task,
                )
                new_ids.append(new.pk)
            _log(
                instance,
                ApprovalAction.Kind.ESCALATE,
                task=task,
                now=now,
                detail={
                    "from": task.assignee_id,
                    "to": [u.pk for u in users],
                    "to_names": [str(u) for u in users],
                    "new_tasks": new_ids,
                },
            )
            audit_record(
                action="approval.escalate",
                obj=instance,
                metadata={"task": task.pk, "new_tasks": new_ids},
            )
            count += 1
    return count
