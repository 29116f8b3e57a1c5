"""Actions: what a firing does, always through the owning app's services.

Each action type has ``validate(params) → errors``, ``permissions(params, kind) → [perm]``
(what the publisher must hold, checked at publish time), ``describe(params) → text`` and
``execute(params, ctx) → outcome``. In a dry run (``ctx.dry``) nothing is called: the outcome
says what would be done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.automations.subjects import owner_of, related, related_customer


class ActionRefused(Exception):
    """The action cannot apply to this record (wrong kind, not allowed transition …)."""


@dataclass
class ExecContext:
    obj: Any  # the subject record (None for a bare schedule)
    kind: str  # subject kind code
    cond: dict[str, Any]  # the condition context (record, related, event)
    occurrence: Any
    version: Any
    index: int
    actor: Any  # the service identity
    dry: bool

    @property
    def dedupe(self) -> str:
        return f"auto:{self.version.pk}:{self.occurrence.key}:{self.index}"[:120]


@dataclass(frozen=True)
class ActionType:
    code: str
    label: Any
    validate: Callable[[dict[str, Any]], dict[str, str]]
    permissions: Callable[[dict[str, Any], str], list[str]]
    describe: Callable[[dict[str, Any]], str]
    execute: Callable[[dict[str, Any], ExecContext], str]


def _user(value: Any) -> Any:
    from django.contrib.auth import get_user_model

    try:
        return get_user_model().objects.filter(pk=int(value), is_active=True).first()
    except (TypeError, ValueError):
        return None


def _recipient(value: Any, ctx: ExecContext) -> Any:
    if value in (None, "", "owner"):
        user = owner_of(ctx.obj) if ctx.obj is not None else None
        if user is None:
            raise ActionRefused(_("该记录没有负责人。"))
        return user
    user = _user(value)
    if user is None:
        raise ActionRefused(_("接收人不存在或已停用。"))
    return user


def _render(text: str, ctx: ExecContext) -> str:
    from credo.notify.services.templates import render_text

    try:
        return render_text(text, ctx.cond)
    except Exception:  # noqa: BLE001 — a broken placeholder must not lose the todo
        return text


# --- assign / reassign owner -------------------------------------------------------------------
def _assign_validate(p: dict[str, Any]) -> dict[str, str]:
    return {} if _user(p.get("user")) else {"user": _("请选择负责人。")}


_ASSIGN_PERMS = {
    "customer": "customers.change_customer",
    "lead": "leads.assign_lead",
    "case": "collections.manage_cases",
}


def _assign_perms(p: dict[str, Any], kind: str) -> list[str]:
    return [_ASSIGN_PERMS[kind]] if kind in _ASSIGN_PERMS else []


def _assign_describe(p: dict[str, Any]) -> str:
    user = _user(p.get("user"))
    return _("分配给 %(u)s") % {"u": user or "?"}


def _assign_execute(p: dict[str, Any], ctx: ExecContext) -> str:
    user = _user(p.get("user"))
    if user is None:
        raise ActionRefused(_("负责人不存在或已停用。"))
    if ctx.kind not in _ASSIGN_PERMS:
        raise ActionRefused(_("该类记录不能分配负责人。"))
    if ctx.dry:
        return _("将分配给 %(u)s") % {"u": user}
    if ctx.kind == "customer":
        from credo.customers.services.records import customer_reassign

        customer_reassign(customer=ctx.obj, new_owner=user, actor=ctx.actor)
    elif ctx.kind == "lead":
        from credo.leads.services import lead_assign_to

        lead_assign_to(lead=ctx.obj, user=user, actor=ctx.actor)
    else:
        from credo.collections.services.assignment import case_reassign

        case_reassign(case=ctx.obj, assignee=user, actor=ctx.actor)
    return _("已分配给 %(u)s") % {"u": user}


# --- todo ----------------------------------------------------------------------------------------
def _todo_validate(p: dict[str, Any]) -> dict[str, str]:
    errors = {}
    if not str(p.get("title") or "").strip():
        errors["title"] = _("请填写待办标题。")
    try:
        if not 0 <= int(p.get("due_days") or 0) <= 365:
            raise ValueError
    except (TypeError, ValueError):
        errors["due_days"] = _("期限天数须为 0 至 365 的整数。")
    if p.get("assignee") not in (None, "", "owner") and _user(p.get("assignee")) is None:
        errors["assignee"] = _("接收人不存在或已停用。")
    return errors


def _todo_describe(p: dict[str, Any]) -> str:
    return _("创建待办“%(t)s”，%(n)s 天内完成") % {"t": p.get("title"), "n": p.get("due_days") or 0}


def _todo_execute(p: dict[str, Any], ctx: ExecContext) -> str:
    from credo.core import clock

    user = _recipient(p.get("assignee"), ctx)
    title = _render(str(p.get("title") or ""), ctx)
    due = clock.today() + dt.timedelta(days=int(p.get("due_days") or 0))
    if ctx.dry:
        return _("将为 %(u)s 创建待办“%(t)s”，到期 %(d)s") % {"u": user, "t": title, "d": due}
    from credo.core.todo.services import todo_create

    todo = todo_create(
        user=user,
        title=title,
        description=_render(str(p.get("description") or ""), ctx),
        due_date=due,
        url=_url(ctx.obj),
        source="automation",
        dedupe_key=ctx.dedupe,
        actor=ctx.actor,
    )
    return _("已为 %(u)s 创建待办 #%(id)s") % {"u": user, "id": todo.pk}


def _url(obj: Any) -> str:
    getter = getattr(obj, "get_absolute_url", None)
    try:
        return str(getter()) if getter else ""
    except Exception:  # noqa: BLE001 — a URL is a convenience
        return ""


# --- notification ---------------------------------------------------------------------------
def _notify_validate(p: dict[str, Any]) -> dict[str, str]:
    from credo.notify.services import registered_templates

    errors = {}
    if str(p.get("template") or "") not in registered_templates():
        errors["template"] = _("请选择通知模板。")
    if (
        p.get("recipient") not in (None, "", "owner", "customer")
        and _user(p.get("recipient")) is None
    ):
        errors["recipient"] = _("接收人不存在或已停用。")
    return errors


def _notify_describe(p: dict[str, Any]) -> str:
    return _("发送通知（模板 %(t)s，渠道 %(c)s）") % {
        "t": p.get("template"),
        "c": p.get("channel") or _("默认"),
    }


def _notify_context(ctx: ExecContext) -> dict[str, Any]:
    record = ctx.cond.get("record") or {}
    customer = ctx.cond.get("customer") or (record if ctx.kind == "customer" else {})
    loan = ctx.cond.get("loan") or (record if ctx.kind == "loan" else {})
    return {
        **{k: v for k, v in record.items() if isinstance(v, str | int | float)},
        "record": record,
        "event": ctx.cond.get("event") or {},
        "customer_name": customer.get("name", ""),
        "loan_number": loan.get("number", ""),
    }


def _notify_execute(p: dict[str, Any], ctx: ExecContext) -> str:
    who = p.get("recipient")
    kwargs: dict[str, Any] = {}
    if who == "customer":
        customer = related_customer(ctx.obj)
        if customer is None:
            raise ActionRefused(_("该记录没有关联客户。"))
        kwargs["customer"] = customer
        target = str(customer)
    else:
        kwargs["user"] = target = _recipient(who, ctx)
    if ctx.dry:
        return _("将通过模板 %(t)s 通知 %(u)s") % {"t": p.get("template"), "u": target}
    from credo.notify.services import notify

    messages = notify(
        template=str(p["template"]),
        context=_notify_context(ctx),
        channel=p.get("channel") or None,
        dedupe_key=ctx.dedupe,
        actor=ctx.actor,
        url=_url(ctx.obj),
        **kwargs,
    )
    return _("已通知 %(u)s（%(n)s 条消息）") % {"u": target, "n": len(messages)}


# --- status --------------------------------------------------------------------------------------
_STATUS_PERMS = {"lead": "leads.change_lead", "alert": "monitoring.handle_alert"}


def _status_validate(p: dict[str, Any]) -> dict[str, str]:
    return {} if p.get("to") else {"to": _("请选择目标状态。")}


def _status_perms(p: dict[str, Any], kind: str) -> list[str]:
    return [_STATUS_PERMS[kind]] if kind in _STATUS_PERMS else []


def _status_describe(p: dict[str, Any]) -> str:
    return _("状态变更为 %(s)s") % {"s": p.get("to")}


def _status_execute(p: dict[str, Any], ctx: ExecContext) -> str:
    from credo.core import fsm

    if ctx.kind not in _STATUS_PERMS or ctx.obj is None:
        raise ActionRefused(_("该类记录不支持自动变更状态。"))
    from credo.automations.subjects import KINDS

    target = str(p.get("to") or "")
    machine = fsm.machine_for(type(ctx.obj), KINDS[ctx.kind].status_field)
    current = str(getattr(ctx.obj, machine.field))
    if current == target:
        return _("已是该状态，无需变更")
    machine.check(current, target)  # TransitionRefused: only allowed transitions
    if ctx.dry:
        return _("将由 %(a)s 变更为 %(b)s") % {"a": current, "b": target}
    note = str(p.get("note") or _("自动化执行"))
    if ctx.kind == "lead":
        from credo.leads.services import lead_change_stage

        lead_change_stage(lead=ctx.obj, stage=target, actor=ctx.actor, reason=note)
    else:
        from credo.monitoring import services as mon

        if target == "acknowledged":
            mon.alert_acknowledge(alert=ctx.obj, actor=ctx.actor)
        elif target == "escalated":
            mon.alert_escalate(alert=ctx.obj, note=note, actor=ctx.actor)
        elif target == "closed":
            mon.alert_close(alert=ctx.obj, conclusion=note, actor=ctx.actor)
        else:
            raise ActionRefused(_("预警不能由自动化变更为该状态。"))
    return _("已由 %(a)s 变更为 %(b)s") % {"a": current, "b": target}


# --- approval ------------------------------------------------------------------------------------
def _approval_validate(p: dict[str, Any]) -> dict[str, str]:
    from credo.approvals.defaults import default_flows
    from credo.approvals.models import ApprovalFlow

    key = str(p.get("flow") or "")
    if not key or not (key in default_flows or ApprovalFlow.objects.filter(key=key).exists()):
        return {"flow": _("请选择审批流。")}
    return {}


def _approval_describe(p: dict[str, Any]) -> str:
    return _("发起审批（%(f)s）") % {"f": p.get("flow")}


def _approval_execute(p: dict[str, Any], ctx: ExecContext) -> str:
    if ctx.obj is None:
        raise ActionRefused(_("定时触发没有可审批的记录。"))
    title = _render(str(p.get("title") or "") or str(ctx.obj), ctx)
    if ctx.dry:
        return _("将发起审批“%(t)s”（%(f)s）") % {"t": title, "f": p.get("flow")}
    from credo.approvals.services.start import approval_start

    record = ctx.cond.get("record") or {}
    owner = owner_of(ctx.obj)
    instance = approval_start(
        subject=ctx.obj,
        flow_key=str(p["flow"]),
        context={
            "amount": record.get("amount") or record.get("principal") or 0,
            "applicant_id": owner.pk if owner is not None else None,
            "source": "automation",
        },
        actor=ctx.actor,
        title=title,
        url=_url(ctx.obj),
    )
    return _("已发起审批 #%(id)s") % {"id": instance.pk}


# --- risk flag -----------------------------------------------------------------------------------
def _flag_validate(p: dict[str, Any]) -> dict[str, str]:
    from credo.customers.services.risk import RISK_FLAGS

    return {} if p.get("flag") in RISK_FLAGS else {"flag": _("请选择风险标记。")}


def _flag_describe(p: dict[str, Any]) -> str:
    from credo.customers.services.risk import RISK_FLAGS

    verb = _("设置") if p.get("on", True) else _("解除")
    return _("%(v)s客户风险标记“%(f)s”") % {"v": verb, "f": RISK_FLAGS.get(str(p.get("flag")), "?")}


def _flag_execute(p: dict[str, Any], ctx: ExecContext) -> str:
    from credo.customers.services.risk import RISK_FLAGS, risk_flag_set

    customer = related_customer(ctx.obj)
    if customer is None:
        raise ActionRefused(_("该记录没有关联客户。"))
    on = bool(p.get("on", True))
    label = RISK_FLAGS.get(str(p.get("flag")), "?")
    if ctx.dry:
        return _("将为 %(c)s %(v)s风险标记“%(f)s”") % {
            "c": customer,
            "v": _("设置") if on else _("解除"),
            "f": label,
        }
    risk_flag_set(
        customer=customer,
        flag=str(p["flag"]),
        on=on,
        actor=ctx.actor,
        reason=str(p.get("reason") or _("自动化：%(n)s") % {"n": ctx.version.automation.name}),
    )
    return _("已为 %(c)s %(v)s风险标记“%(f)s”") % {
        "c": customer,
        "v": _("设置") if on else _("解除"),
        "f": label,
    }


# --- custom record -------------------------------------------------------------------------------
def _record_type(code: Any) -> Any:
    from credo.records.models import RecordType

    return RecordType.objects.filter(code=str(code or "")).first()


def _record_validate(p: dict[str, Any]) -> dict[str, str]:
    errors = {}
    try:
        if _record_type(p.get("record_type")) is None:
            errors["record_type"] = _("请选择自定义记录类型。")
    except Exception:  # noqa: BLE001 — the records app may be absent
        errors["record_type"] = _("请选择自定义记录类型。")
    if not isinstance(p.get("values", {}), dict):
        errors["values"] = _("字段值须为 JSON 对象。")
    return errors


def _record_describe(p: dict[str, Any]) -> str:
    return _("新建自定义记录（%(t)s）") % {"t": p.get("record_type")}


def _record_execute(p: dict[str, Any], ctx: ExecContext) -> str:
    rtype = _record_type(p.get("record_type"))
    if rtype is None:
        raise ActionRefused(_("自定义记录类型不存在。"))
    rel = related(ctx.obj)
    links = {
        name: (ctx.obj if ctx.kind == name else rel.get(name))
        for name in ("customer", "application", "loan")
    }
    values = {
        k: _render(v, ctx) if isinstance(v, str) else v for k, v in (p.get("values") or {}).items()
    }
    if ctx.dry:
        return _("将新建“%(t)s”记录") % {"t": rtype.name}
    from credo.records.services import record_create

    rec = record_create(
        record_type=rtype,
        values=values,
        actor=ctx.actor,
        customer=links["customer"],
        application=links["application"],
        loan=links["loan"],
    )
    return _("已新建记录 %(n)s") % {"n": getattr(rec, "number", rec.pk)}


# --- outbound webhook ----------------------------------------------------------------------------
def _webhook_validate(p: dict[str, Any]) -> dict[str, str]:
    try:
        from credo.webhooks.models import WebhookEndpoint  # type: ignore[import-not-found,unused-ignore]

        if not WebhookEndpoint.objects.filter(pk=int(p.get("endpoint") or 0)).exists():
            return {"endpoint": _("请选择回调地址。")}
    except (ImportError, LookupError, TypeError, ValueError):
        return {"endpoint": _("请选择回调地址。")}
    return {}


def _webhook_describe(p: dict[str, Any]) -> str:
    return _("调用外部回调 #%(e)s") % {"e": p.get("endpoint")}


def _webhook_execute(p: dict[str, Any], ctx: ExecContext) -> str:
    endpoint = int(p.get("endpoint") or 0)
    if ctx.dry:
        return _("将调用外部回调 #%(e)s") % {"e": endpoint}
    from credo.webhooks.services import webhook_emit  # type: ignore[import-not-found,unused-ignore]

    payload = {
        "automation": {
            "id": ctx.version.automation_id,
            "name": ctx.version.automation.name,
            "version": ctx.version.number,
        },
        "event": ctx.occurrence.event,
        "object": {
            "type": ctx.occurrence.object_type,
            "id": ctx.occurrence.object_id,
            "repr": ctx.occurrence.object_repr,
        },
        "record": ctx.cond.get("record") or {},
    }
    webhook_emit(
        endpoint_id=endpoint,
        event_type=str(ctx.occurrence.event.get("type") or "automation"),
        payload=payload,
        idempotency_key=ctx.dedupe,
    )
    return _("已排队调用外部回调 #%(e)s") % {"e": endpoint}


def _none(p: dict[str, Any], kind: str) -> list[str]:
    return []


ACTION_TYPES: dict[str, ActionType] = {
    a.code: a
    for a in (
        ActionType(
            "assign_owner",
            gettext_lazy("分配/改派负责人"),
            _assign_validate,
            _assign_perms,
            _assign_describe,
            _assign_execute,
        ),
        ActionType(
            "todo",
            gettext_lazy("创建待办"),
            _todo_validate,
            _none,
            _todo_describe,
            _todo_execute,
        ),
        ActionType(
            "notify",
            gettext_lazy("发送通知"),
            _notify_validate,
            _none,
            _notify_describe,
            _notify_execute,
        ),
        ActionType(
            "status",
            gettext_lazy("变更状态"),
            _status_validate,
            _status_perms,
            _status_describe,
            _status_execute,
        ),
        ActionType(
            "approval",
            gettext_lazy("发起审批"),
            _approval_validate,
            lambda p, k: ["approvals.view_approvalinstance"],
            _approval_describe,
            _approval_execute,
        ),
        ActionType(
            "risk_flag",
            gettext_lazy("设置风险标记"),
            _flag_validate,
            lambda p, k: ["customers.change_customer"],
            _flag_describe,
            _flag_execute,
        ),
        ActionType(
            "record",
            gettext_lazy("新建自定义记录"),
            _record_validate,
            lambda p, k: ["records.add_customrecord"],
            _record_describe,
            _record_execute,
        ),
        ActionType(
            "webhook",
            gettext_lazy("调用外部回调（Webhook）"),
            _webhook_validate,
            lambda p, k: ["webhooks.manage_webhookendpoint"],
            _webhook_describe,
            _webhook_execute,
        ),
    )
}


def validate(actions: Any) -> dict[str, str]:
    if not isinstance(actions, list) or not actions:
        return {"actions": _("至少需要一个动作。")}
    errors: dict[str, str] = {}
    for i, action in enumerate(actions, 1):
        at = ACTION_TYPES.get(str((action or {}).get("type")))
        if at is None:
            errors[f"actions.{i}"] = _("第 %(i)s 个动作类型无效。") % {"i": i}
            continue
        for name, msg in at.validate(action).items():
            errors[f"actions.{i}.{name}"] = _("第 %(i)s 个动作：%(m)s") % {"i": i, "m": msg}
    return errors


def required_permissions(actions: list[dict[str, Any]], kind: str) -> list[str]:
    perms: set[str] = set()
    for action in actions:
        at = ACTION_TYPES.get(str(action.get("type")))
        if at is not None:
            perms.update(at.permissions(action, kind))
    return sorted(perms)


def describe(action: dict[str, Any]) -> str:
    at = ACTION_TYPES.get(str(action.get("type")))
    return at.describe(action) if at else "?"
