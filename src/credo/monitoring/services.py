"""Alert handling (E2). Every action is one transaction on a locked alert, audited, logged as
an ``AlertAction`` and written to the customer's timeline (kind ``alert``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_event
from credo.monitoring import states
from credo.monitoring.errors import InvalidAction, InvalidState
from credo.monitoring.models import Alert, AlertAction

CONTACT_CHANNELS = {
    "phone": _("电话"),
    "visit": _("上门"),
    "sms": _("短信"),
    "wechat": _("微信"),
    "other": _("其他"),
}
ACTIONS = (
    "acknowledge",
    "contact",
    "request_guarantee",
    "adjust_limit",
    "freeze_limit",
    "escalate",
    "close",
)


def _lock(alert: Alert) -> Alert:
    # of=("self",): the alert row only. Locking the joined customer and loan rows too put the
    # customer before the credit limit (freeze/adjust actions) — the reverse of loan creation.
    locked = (
        Alert.objects.select_for_update(of=("self",))
        .select_related("customer", "loan")
        .get(pk=alert.pk)
    )
    if locked.status == Alert.Status.CLOSED:
        raise InvalidState(_("预警已关闭，不能再处理。"))
    return locked


def _log(alert: Alert, kind: str, actor: Any, note: str = "", **detail: Any) -> AlertAction:
    action = AlertAction.objects.create(
        alert=alert, kind=kind, note=note, detail=detail, actor=actor
    )
    label = AlertAction.Kind(kind).label
    audit_record(
        action=f"monitoring.alert_{kind}",
        actor=actor,
        obj=alert,
        changes={"status": alert.status},
        metadata={"note": note, **detail},
    )
    record_event(
        customer=alert.customer,
        kind="alert",
        title=(
            _("预警“%(r)s”%(a)s%(n)s")
            % {
                "r": alert.rule_name,
                "a": label,
                "n": f"：{note}" if note else "",
            }
        )[:200],
        actor=actor,
        obj=alert,
        source="monitoring",
        detail={"action": kind, **detail},
    )
    return action


def _advance(alert: Alert, status: str) -> None:
    fsm.transition(alert, status)


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: Any) -> Alert:
    alert = _lock(alert)
    if alert.status != Alert.Status.OPEN:
        raise InvalidState(_("只有待处理的预警可以确认。"))
    _advance(alert, Alert.Status.ACKNOWLEDGED)
    _log(alert, AlertAction.Kind.ACKNOWLEDGE, actor)
    return alert


@transaction.atomic
def alert_contact(*, alert: Alert, channel: str, summary: str, actor: Any) -> Alert:
    summary = (summary or "").strip()
    if channel not in CONTACT_CHANNELS:
        raise InvalidAction(_("请选择联系方式。"))
    if not summary:
        raise InvalidAction(_("请填写联系情况。"))
    alert = _lock(alert)
    if alert.status in states.ADVANCE_FROM:
        _advance(alert, Alert.Status.IN_PROGRESS)
    _log(alert, AlertAction.Kind.CONTACT, actor, summary, channel=channel)
    return alert


@transaction.atomic
def alert_request_guarantee(*, alert: Alert, note: str, actor: Any) -> Alert:
    from credo.core.todo.services import todo_create

    note = (note or "").strip()
    if not note:
        raise InvalidAction(_("请说明需要追加的担保或抵押。"))
    alert = _lock(alert)
    todo_create(
        user=alert.customer.owner,
        title=_("追加担保/抵押：%(c)s") % {"c": alert.customer.name},
        description=note,
        due_date=clock.today() + dt.timedelta(days=7),
        url=f"/monitoring/alerts/{alert.pk}/",
        source="monitoring",
        dedupe_key=f"alert:{alert.pk}:guarantee",
        actor=actor,
    )
    if alert.status in states.ADVANCE_FROM:
        _advance(alert, Alert.Status.IN_PROGRESS)
    _log(alert, AlertAction.Kind.REQUEST_GUARANTEE, actor, note)
    return alert


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidAction(_("请填写原因。"))
    return reason[:200]


@transaction.atomic
def alert_freeze_limit(*, alert: Alert, reason: str, actor: Any) -> Alert:
    from credo.lending.errors import LendingError
    from credo.lending.limits import limit_freeze

    reason = _reason(reason)
    alert = _lock(alert)
    try:
        limit_freeze(customer=alert.customer, frozen=True, actor=actor, reason=reason)
    except LendingError as exc:
        raise InvalidState(exc.message) from exc
    if alert.status in states.ADVANCE_FROM:
        _advance(alert, Alert.Status.IN_PROGRESS)
    _log(alert, AlertAction.Kind.FREEZE_LIMIT, actor, reason)
    return alert


@transaction.atomic
def alert_adjust_limit(*, alert: Alert, amount: Any, reason: str, actor: Any) -> Alert:
    from credo.lending.errors import LendingError
    from credo.lending.limits import limit_set
    from credo.lending.models import CreditLimit

    reason = _reason(reason)
    try:
        money = amount if isinstance(amount, Money) else Money(Decimal(str(amount).strip()))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidAction(_("请填写有效的额度金额。")) from None
    if money.fen < 0:
        raise InvalidAction(_("请填写有效的额度金额。"))
    alert = _lock(alert)
    current = CreditLimit.objects.filter(customer=alert.customer).first()
    try:
        limit_set(
            customer=alert.customer,
            amount=money,
            actor=actor,
            reason=reason,
            valid_until=current.valid_until if current else None,
        )
    except LendingError as exc:
        raise InvalidState(exc.message) from exc
    if alert.status in states.ADVANCE_FROM:
        _advance(alert, Alert.Status.IN_PROGRESS)
    _log(alert, AlertAction.Kind.ADJUST_LIMIT, actor, reason, amount=money.fen)
    return alert


@transaction.atomic
def alert_escalate(*, alert: Alert, note: str, actor: Any) -> Alert:
    """To the next role up: management in the customer's branch (else any management user)."""
    from credo.monitoring.batch import users_with_role

    note = (note or "").strip()
    if not note:
        raise InvalidAction(_("请填写升级说明。"))
    alert = _lock(alert)
    heads = users_with_role("management")
    head = heads.get(alert.branch_id) or heads.get(None)
    if head is None:
        raise InvalidState(_("没有可升级的管理层人员。"))
    from credo.monitoring.push import policies, policy_for, push_escalation

    policy = policy_for(alert.severity, policies())
    before = alert.assignee_id
    alert.assignee = head
    alert.escalated_at = timezone.now()
    # the head gets a fresh time limit of the severity's SLA; the automatic escalation carries
    # on above management in the policy's chain (never back down to a team lead)
    alert.due_at = alert.escalated_at + dt.timedelta(hours=policy.sla_hours)
    roles = policy.escalate_to
    reached = roles.index("management") + 1 if "management" in roles else len(roles)
    alert.escalation_level = max(alert.escalation_level, reached)
    fsm.transition(
        alert,
        Alert.Status.ESCALATED,
        update_fields=("assignee", "escalated_at", "due_at", "escalation_level"),
        allow_same=True,
    )
    _log(
        alert,
        AlertAction.Kind.ESCALATE,
        actor,
        note,
        reason="manual",
        from_user=before,
        to_user=head.pk,
    )
    push_escalation(alert, head, note=note, key=f"manual:{alert.escalated_at:%Y%m%d%H%M%S}")
    return alert


@transaction.atomic
def alert_close(*, alert: Alert, conclusion: str, actor: Any) -> Alert:
    conclusion = (conclusion or "").strip()
    if not conclusion:
        raise InvalidAction(_("关闭预警必须填写处理结论。"))
    alert = _lock(alert)
    alert.conclusion = conclusion
    alert.closed_at, alert.closed_by = timezone.now(), actor
    fsm.transition(
        alert, Alert.Status.CLOSED, update_fields=("conclusion", "closed_at", "closed_by")
    )
    _log(alert, AlertAction.Kind.CLOSE, actor, conclusion)
    from credo.monitoring.push import cancel_alert_todos

    cancel_alert_todos([alert.pk], actor=actor)
    return alert


def alert_action(*, alert: Alert, action: str, data: dict[str, Any], actor: Any) -> Alert:
    """Dispatch one handling action by name (views and API)."""
    data = data or {}
    if action == "acknowledge":
        return alert_acknowledge(alert=alert, actor=actor)
    if action == "contact":
        return alert_contact(
            alert=alert,
            channel=str(data.get("channel") or ""),
            summary=str(data.get("summary") or ""),
            actor=actor,
        )
    if action == "request_guarantee":
        return alert_request_guarantee(alert=alert, note=str(data.get("note") or ""), actor=actor)
    if action == "freeze_limit":
        return alert_freeze_limit(alert=alert, reason=str(data.get("reason") or ""), actor=actor)
    if action == "adjust_limit":
        return alert_adjust_limit(
            alert=alert,
            amount=data.get("amount"),
            reason=str(data.get("reason") or ""),
            actor=actor,
        )
    if action == "escalate":
        return alert_escalate(alert=alert, note=str(data.get("note") or ""), actor=actor)
    if action == "close":
        return alert_close(alert=alert, conclusion=str(data.get("conclusion") or ""), actor=actor)
    raise InvalidAction(_("未知的处理动作。"))


# --- alerts raised by a business event ------------------------------------------------------------
def alert_raise(
    *,
    loan: Any,
    code: str,
    name: str,
    severity: str,
    sla_hours: int,
    reasons: list[dict[str, Any]],
    snapshot: dict[str, Any],
    actor: Any,
    note: str = "",
) -> tuple[Alert, bool]:
    """Open an alert on ``loan`` from a business event (e.g. a failed 贷后检查) rather than from
    the indicator rules: ``code`` is prefixed with ``batch.EVENT_RULE_PREFIX`` so the nightly
    reconciliation leaves it open until a person closes it (or the loan leaves the book). One
    open alert per code and loan: while one is open it is returned unchanged. Returns
    ``(alert, created)``; assigned and pushed like the rule alerts (``push.Assigner``: the
    branch's 风控经理, else the configured default, else the owner; a todo and messages by
    severity). ``sla_hours`` is the event's own limit: the severity's SLA when shorter."""
    from django.db import IntegrityError

    from credo.monitoring.batch import EVENT_RULE_PREFIX
    from credo.monitoring.push import Assigner, alerts_push, policies
    from credo.monitoring.push import sla_hours as severity_sla

    code = code if code.startswith(EVENT_RULE_PREFIX) else EVENT_RULE_PREFIX + code
    with transaction.atomic():
        existing = (
            Alert.objects.filter(rule_code=code, loan=loan)
            .exclude(status=Alert.Status.CLOSED)
            .first()
        )
        if existing is not None:
            return existing, False
        customer = loan.customer
        pols = policies()
        assignee_id = Assigner(pols).assignee(
            branch_id=customer.branch_id, owner_id=customer.owner_id, severity=severity
        )
        hours = severity_sla(severity, sla_hours, pols)
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    rule_code=code[:40],
                    rule_name=name[:80],
                    severity=severity,
                    loan=loan,
                    customer=customer,
                    reasons=reasons,
                    snapshot=snapshot,
                    business_date=clock.today(),
                    last_seen_on=clock.today(),
                    assignee_id=assignee_id,
                    owner_id=customer.owner_id,
                    team_id=customer.team_id,
                    branch_id=customer.branch_id,
                    due_at=timezone.now() + dt.timedelta(hours=hours),
                )
        except IntegrityError:  # raised concurrently by another event
            return Alert.objects.exclude(status=Alert.Status.CLOSED).get(
                rule_code=code, loan=loan
            ), False
        _log(alert, AlertAction.Kind.CREATED, actor, note=note)
        alerts_push([alert.pk], source="event", actor=actor)
        alert.refresh_from_db()
        return alert, True
