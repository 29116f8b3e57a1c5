"""Trigger kinds: what starts an automation, and the occurrences each one produces.

* ``event`` — a business event of the catalogue (record created/changed, repayment posted,
  promise broken …) with field filters: ``fields`` (any of them changed) and ``equals``
  (``{field: value}`` on the new value or the event's metadata);
* ``transition`` — a status (stage) change of a record kind, ``from`` → ``to``;
* ``date`` — a date field reached, N days ahead, scanned daily after the close of business;
* ``eod`` — close-of-business results of the day (overdue by N days, classification changed);
* ``alert`` — a monitoring alert raised (scanned: the nightly batch creates alerts in bulk);
* ``cron`` — a schedule, optionally over every open record of a kind.

Every trigger yields :class:`Occurrence` objects; ``Occurrence.key`` is the idempotency key
(one run per occurrence × automation version).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.automations.subjects import KINDS, model_of

TRIGGER_TYPES: dict[str, Any] = {
    "event": gettext_lazy("业务事件（新建、变更、还款入账、承诺违约等）"),
    "transition": gettext_lazy("状态变更"),
    "date": gettext_lazy("日期到达"),
    "eod": gettext_lazy("日终结果"),
    "alert": gettext_lazy("预警产生"),
    "cron": gettext_lazy("定时（cron）"),
}
SCANNED = {"date", "eod", "alert", "cron"}

DATE_FIELDS: dict[str, tuple[Any, str]] = {
    # code → (label, subject kind)
    "installment_due": (gettext_lazy("还款日前 N 天（未还清的期次）"), "loan"),
    "authorization_expiring": (gettext_lazy("查询授权到期前 N 天"), "customer"),
    "collateral_expiring": (gettext_lazy("押品抵押登记到期前 N 天"), "collateral"),
    "birthday": (gettext_lazy("客户生日前 N 天（个人客户）"), "customer"),
    "loan_anniversary": (gettext_lazy("贷款起息周年前 N 天"), "loan"),
}
EOD_RESULTS: dict[str, Any] = {
    "overdue_days": gettext_lazy("逾期天数达到 N 天"),
    "class_changed": gettext_lazy("五级分类变化"),
}


@dataclass(frozen=True)
class TransitionSpec:
    kind: str
    object_type: str
    actions: tuple[str, ...]
    field: str = "status"


def _statuses(object_type: str, name: str = "status") -> list[tuple[str, str]]:
    model = model_of(object_type)
    if model is None:
        return []
    try:
        return [(str(v), str(label)) for v, label in model._meta.get_field(name).choices or []]  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 — an optional app may be absent
        return []


def transition_specs() -> dict[str, TransitionSpec]:
    apps_ = _statuses("origination.application")
    contracts = _statuses("contracts.contract")
    alerts = ("acknowledge", "escalate", "close", "auto_close")
    return {
        "application": TransitionSpec(
            "application",
            "origination.application",
            tuple(f"application.{s}" for s, _l in apps_),
        ),
        "lead": TransitionSpec("lead", "leads.lead", ("lead.stage",), "stage"),
        "contract": TransitionSpec(
            "contract", "contracts.contract", tuple(f"contracts.{s}" for s, _l in contracts)
        ),
        "approval": TransitionSpec(
            "approval",
            "approvals.approvalinstance",
            ("approval.approved", "approval.rejected", "approval.returned", "approval.cancelled"),
        ),
        "promise": TransitionSpec(
            "promise",
            "collections.promisetopay",
            ("collections.promise_kept", "collections.promise_broken"),
        ),
        "alert": TransitionSpec(
            "alert", "monitoring.alert", tuple(f"monitoring.alert_{k}" for k in alerts)
        ),
    }


def transition_states(kind: str) -> list[tuple[str, str]]:
    spec = transition_specs().get(kind)
    return _statuses(spec.object_type, spec.field) if spec else []


@dataclass(frozen=True)
class Occurrence:
    key: str  # idempotency key, e.g. "audit:123", "date:installment_due:45:2026-06-20"
    trigger_type: str
    object_type: str = ""
    object_id: str = ""
    object_repr: str = ""
    event: dict[str, Any] = field(default_factory=dict)
    depth: int = 0  # how many automation firings led to this occurrence


def normalized_changes(changes: Any) -> dict[str, dict[str, Any]]:
    """Audit rows write changes as ``{"old", "new"}`` dicts or ``[old, new]`` pairs."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in dict(changes or {}).items():
        if isinstance(value, dict) and ("old" in value or "new" in value):
            out[name] = {"old": value.get("old"), "new": value.get("new")}
        elif isinstance(value, list | tuple) and len(value) == 2:
            out[name] = {"old": value[0], "new": value[1]}
        else:
            out[name] = {"old": None, "new": value}
    return out


# --- validation --------------------------------------------------------------------------------
def validate(trigger: dict[str, Any]) -> dict[str, str]:
    """Field → Chinese error; empty when the trigger is complete."""
    kind = trigger.get("type")
    if kind not in TRIGGER_TYPES:
        return {"type": _("请选择触发类型。")}
    check = _VALIDATORS.get(str(kind))
    return check(trigger) if check else {}


def _validate_event(trigger: dict[str, Any]) -> dict[str, str]:
    from credo.core.events.catalogue import event_types

    if not trigger.get("event") or event_types.get(str(trigger["event"])) is None:
        return {"event": _("请从事件目录中选择事件。")}
    return {}


def _validate_transition(trigger: dict[str, Any]) -> dict[str, str]:
    spec = transition_specs().get(str(trigger.get("object") or ""))
    if spec is None:
        return {"object": _("请选择对象类型。")}
    errors: dict[str, str] = {}
    states = {s for s, _l in transition_states(spec.kind)}
    if not trigger.get("to") or trigger["to"] not in states:
        errors["to"] = _("请选择变更后的状态。")
    if trigger.get("from") and trigger["from"] not in states:
        errors["from"] = _("变更前的状态无效。")
    return errors


def _validate_date(trigger: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if trigger.get("field") not in DATE_FIELDS:
        errors["field"] = _("请选择日期字段。")
    if not _days_ok(trigger.get("days")):
        errors["days"] = _("天数须为 0 至 365 的整数。")
    return errors


def _validate_eod(trigger: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if trigger.get("result") not in EOD_RESULTS:
        errors["result"] = _("请选择日终结果。")
    if trigger.get("result") == "overdue_days" and not _days_ok(trigger.get("days"), 1):
        errors["days"] = _("天数须为 1 至 365 的整数。")
    return errors


def _validate_cron(trigger: dict[str, Any]) -> dict[str, str]:
    from credo.core.scheduling.cron import cron_error

    errors: dict[str, str] = {}
    error = cron_error(str(trigger.get("cron") or ""))
    if error:
        errors["cron"] = _("cron 表达式无效：%(e)s") % {"e": error}
    if trigger.get("object") and trigger["object"] not in KINDS:
        errors["object"] = _("对象类型无效。")
    return errors


_VALIDATORS: dict[str, Any] = {
    "event": _validate_event,
    "transition": _validate_transition,
    "date": _validate_date,
    "eod": _validate_eod,
    "cron": _validate_cron,
}


def _days_ok(value: Any, low: int = 0) -> bool:
    try:
        return low <= int(value) <= 365
    except (TypeError, ValueError):
        return False


def subject_kind(trigger: dict[str, Any]) -> str:
    """The record kind the trigger is about ("" when none, e.g. a bare schedule)."""
    from credo.automations.subjects import BY_OBJECT_TYPE
    from credo.core.events.catalogue import event_types

    kind = trigger.get("type")
    if kind == "event":
        et = event_types.get(str(trigger.get("event") or ""))
        k = BY_OBJECT_TYPE.get(et.object_type) if et else None
        return k.code if k else ""
    if kind == "transition":
        return str(trigger.get("object") or "")
    if kind == "date":
        return DATE_FIELDS.get(str(trigger.get("field")), ("", ""))[1]
    if kind == "eod":
        return "loan"
    if kind == "alert":
        return "alert"
    if kind == "cron":
        return str(trigger.get("object") or "")
    return ""


def event_actions(trigger: dict[str, Any]) -> set[str]:
    """The audit actions an event-driven trigger listens to."""
    kind = trigger.get("type")
    if kind == "event" and trigger.get("event"):
        return {str(trigger["event"])}
    if kind == "transition":
        spec = transition_specs().get(str(trigger.get("object") or ""))
        return set(spec.actions) if spec else set()
    return set()


def describe(trigger: dict[str, Any]) -> str:
    from credo.core.events.catalogue import event_label

    kind = trigger.get("type")
    if kind == "event":
        text = _("事件：%(e)s") % {"e": event_label(str(trigger.get("event") or ""))}
        if trigger.get("fields"):
            text += _("（字段变更：%(f)s）") % {"f": "、".join(trigger["fields"])}
        if trigger.get("equals"):
            text += _("（条件：%(f)s）") % {
                "f": "，".join(f"{k}={v}" for k, v in trigger["equals"].items())
            }
        return text
    if kind == "transition":
        states = dict(transition_states(str(trigger.get("object") or "")))
        k = KINDS.get(str(trigger.get("object") or ""))
        return _("%(k)s状态：%(a)s → %(b)s") % {
            "k": k.label if k else trigger.get("object"),
            "a": states.get(str(trigger.get("from") or ""), _("任意")),
            "b": states.get(str(trigger.get("to") or ""), trigger.get("to")),
        }
    if kind == "date":
        label = DATE_FIELDS.get(str(trigger.get("field")), ("?", ""))[0]
        return _("日期到达：%(f)s，N=%(n)s") % {"f": label, "n": trigger.get("days")}
    if kind == "eod":
        text = str(EOD_RESULTS.get(str(trigger.get("result")), "?"))
        if trigger.get("result") == "overdue_days":
            text += f"，N={trigger.get('days')}"
        if trigger.get("to_class"):
            text += f" → {trigger['to_class']}"
        return _("日终结果：%(r)s") % {"r": text}
    if kind == "alert":
        sev = trigger.get("severity") or _("任意")
        return _("预警产生（严重程度：%(s)s）") % {"s": sev}
    if kind == "cron":
        k = KINDS.get(str(trigger.get("object") or ""))
        return _("定时：%(c)s%(o)s") % {
            "c": trigger.get("cron"),
            "o": _("，逐条检查%(k)s") % {"k": k.label} if k else "",
        }
    return "—"


# --- event-driven ------------------------------------------------------------------------------
def transition_of(spec: TransitionSpec, action: str, changes: Any) -> tuple[Any, Any]:
    ch = normalized_changes(changes).get(spec.field)
    if ch is not None:
        return ch.get("old"), ch.get("new")
    # actions named after the new state (``contracts.signed``, ``collections.promise_broken``)
    suffix = action.rsplit(".", 1)[-1]
    for prefix in ("promise_", "alert_"):
        if suffix.startswith(prefix):
            suffix = suffix[len(prefix) :]
    return None, suffix


def matches_event(trigger: dict[str, Any], action: str, changes: Any, metadata: Any) -> bool:
    kind = trigger.get("type")
    if kind == "event":
        if action != trigger.get("event"):
            return False
        ch = normalized_changes(changes)
        fields = [f for f in trigger.get("fields") or [] if f]
        if fields and not any(f in ch for f in fields):
            return False
        meta = dict(metadata or {})
        for name, want in (trigger.get("equals") or {}).items():
            have = ch[name]["new"] if name in ch else meta.get(name)
            if str(have) != str(want):
                return False
        return True
    if kind == "transition":
        spec = transition_specs().get(str(trigger.get("object") or ""))
        if spec is None or action not in spec.actions:
            return False
        old, new = transition_of(spec, action, changes)
        if trigger.get("to") and str(new) != str(trigger["to"]):
            return False
        return not (trigger.get("from") and str(old) != str(trigger["from"]))
    return False


def occurrence_of_event(ev: Any, depth: int = 0) -> Occurrence:
    payload = ev.as_payload()
    payload["changes"] = normalized_changes(ev.changes)
    return Occurrence(
        key=ev.key,
        trigger_type="event",
        object_type=ev.object_type,
        object_id=ev.object_id,
        object_repr=ev.object_repr,
        event=payload,
        depth=depth,
    )


# --- scanned -----------------------------------------------------------------------------------
def _synthetic(key: str, kind: str, obj: Any, event_type: str, **data: Any) -> Occurrence:
    return Occurrence(
        key=key[:120],
        trigger_type=kind,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        event={"type": event_type, **{k: _plain(v) for k, v in data.items()}},
    )


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


OPEN_LOANS = ("active", "overdue")


def scan_date(trigger: dict[str, Any], day: dt.date) -> Iterator[Occurrence]:
    """The records whose date field is ``day + N``."""
    from credo.core.validators import id_birth_date
    from credo.customers.models import Authorization, Customer
    from credo.lending.models import Installment, Loan

    n = int(trigger.get("days") or 0)
    target = day + dt.timedelta(days=n)
    what = trigger.get("field")
    etype = f"date.{what}"
    if what == "installment_due":
        insts = (
            Installment.objects.filter(due_date=target, status__in=("scheduled", "due"))
            .filter(loan__status__in=OPEN_LOANS)
            .select_related("loan")
            .order_by("id")
        )
        for inst in insts:
            yield _synthetic(
                f"date:{what}:{inst.pk}:{target}",
                "date",
                inst.loan,
                etype,
                date=target,
                days=n,
                period=inst.period,
            )
    elif what == "authorization_expiring":
        auths = Authorization.objects.filter(valid_until=target, revoked_at__isnull=True)
        for auth in auths.select_related("customer").order_by("id"):
            yield _synthetic(
                f"date:{what}:{auth.pk}:{target}",
                "date",
                auth.customer,
                etype,
                date=target,
                days=n,
                scope=auth.scope,
            )
    elif what == "collateral_expiring":
        coll_model = model_of("collateral.collateral")
        if coll_model is not None:
            for coll in coll_model._default_manager.filter(expires_on=target).order_by("id"):
                yield _synthetic(
                    f"date:{what}:{coll.pk}:{target}", "date", coll, etype, date=target, days=n
                )
    elif what == "birthday":
        people = Customer.objects.filter(kind="individual").order_by("id")
        for customer in people.iterator(chunk_size=500):
            birth = id_birth_date(customer.id_number or "")
            if birth and (birth.month, birth.day) == (target.month, target.day):
                yield _synthetic(
                    f"date:{what}:{customer.pk}:{target}",
                    "date",
                    customer,
                    etype,
                    date=target,
                    days=n,
                )
    elif what == "loan_anniversary":
        loans = Loan.objects.filter(
            status__in=OPEN_LOANS,
            start_date__month=target.month,
            start_date__day=target.day,
            start_date__lt=target,
        ).order_by("id")
        for loan in loans:
            years = target.year - loan.start_date.year  # type: ignore[union-attr]
            yield _synthetic(
                f"date:{what}:{loan.pk}:{target}",
                "date",
                loan,
                etype,
                date=target,
                days=n,
                years=years,
            )


def scan_eod(trigger: dict[str, Any], day: dt.date) -> Iterator[Occurrence]:
    """The close of business results of ``day``."""
    from credo.lending.models import Loan, LoanClassHistory

    what = trigger.get("result")
    if what == "overdue_days":
        n = int(trigger.get("days") or 0)
        for loan in Loan.objects.filter(dpd=n, status__in=OPEN_LOANS).order_by("id"):
            yield _synthetic(
                f"eod:overdue:{loan.pk}:{day}", "eod", loan, "eod.overdue_days", date=day, dpd=n
            )
    elif what == "class_changed":
        hist = LoanClassHistory.objects.filter(date=day).select_related("loan").order_by("id")
        if trigger.get("to_class"):
            hist = hist.filter(to_class=trigger["to_class"])
        for h in hist:
            if h.from_class == h.to_class:
                continue
            yield _synthetic(
                f"eod:class:{h.pk}",
                "eod",
                h.loan,
                "eod.class_changed",
                date=day,
                from_class=h.from_class,
                to_class=h.to_class,
            )


def scan_alerts(trigger: dict[str, Any], after_id: int, *, since: Any = None) -> Iterator[Any]:
    """``(alert_id, occurrence)`` for alerts created after ``after_id`` (or since a time)."""
    alert_model = model_of("monitoring.alert")
    if alert_model is None:
        return
    qs = alert_model._default_manager.filter(pk__gt=after_id).order_by("id")
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if trigger.get("severity"):
        qs = qs.filter(severity=trigger["severity"])
    for alert in qs.iterator(chunk_size=500):
        yield (
            alert.pk,
            _synthetic(
                f"alert:{alert.pk}",
                "alert",
                alert,
                "monitoring.alert_raised",
                rule_code=getattr(alert, "rule_code", ""),
                severity=getattr(alert, "severity", ""),
            ),
        )


CRON_RECORD_LIMIT = 2000


def scan_cron(trigger: dict[str, Any], slot: dt.datetime) -> Iterator[Occurrence]:
    kind = KINDS.get(str(trigger.get("object") or ""))
    stamp = slot.strftime("%Y%m%dT%H%M")
    if kind is None:
        yield Occurrence(
            key=f"cron:{stamp}", trigger_type="cron", event={"type": "cron", "slot": stamp}
        )
        return
    model = model_of(kind.object_type)
    if model is None:
        return
    for obj in model._default_manager.order_by("-id")[:CRON_RECORD_LIMIT]:
        yield _synthetic(f"cron:{stamp}:{obj.pk}", "cron", obj, "cron", slot=stamp)
