"""Pushed alerts (issue 23): every new alert reaches its assignee at once, escalates when its
time limit (SLA) passes, and medium alerts are summed up once a day.

What happens per severity is configurable data: the decision model ``monitoring.alert_push``
(input ``severity``; outputs the channels — ``inapp``, ``preferred`` (the assignee's preferred
channel, e.g. e-mail or the WeCom/DingTalk group), ``digest`` (the daily summary) — the
``sla_hours``, when the SLA clock stops (``stop_on``), whom an overdue alert goes to
(``escalate_to``: role codes tried in turn), the todo priority and a ``default_assignee``).

Set-based like the batch that creates the alerts: per chunk of alerts one locking read, one
read of the assignees and their preferences, one :func:`credo.notify.services.notify_many`
call, one bulk insert of todos, one ``UPDATE`` marking the alerts pushed and ONE audit row
``monitoring.alert_raised`` listing the alert ids (the business event automations trigger on;
one row per chunk rather than per alert keeps the nightly batch's query count flat). Idempotent:
an alert is pushed once (``pushed_at``; the rows are locked ``SKIP LOCKED`` so two pushes never
both take it), and the message and todo dedupe keys make a repeated push write nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.models import DataScope, User
from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.monitoring import states  # noqa: F401 — registers the machines
from credo.monitoring.models import Alert, AlertAction, Severity

PUSH_KEY = "monitoring.alert_push"
CHUNK = 2000
RAISED_TEMPLATE = "monitoring.alert_raised"
ESCALATED_TEMPLATE = "monitoring.alert_escalated"
DIGEST_TEMPLATE = "monitoring.alert_digest"
#: the kinds a staff member's "preferred channel" may name besides the inbox
PREFERRED_KINDS = ("email", "wecom", "dingtalk")
#: handling actions that count as "someone is on it" for an escalated alert
HANDLING = (
    AlertAction.Kind.ACKNOWLEDGE,
    AlertAction.Kind.CONTACT,
    AlertAction.Kind.REQUEST_GUARANTEE,
    AlertAction.Kind.ADJUST_LIMIT,
    AlertAction.Kind.FREEZE_LIMIT,
)
MAX_ESCALATIONS_PER_RUN = 1000


# --- the policy -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PushPolicy:
    severity: str
    inapp: bool
    preferred: bool
    digest: bool
    sla_hours: float
    stop_on: (
        str  # "acknowledged": acknowledging or handling stops the clock; "closed": only closing
    )
    escalate_to: tuple[str, ...]
    priority: int
    default_assignee: str
    version_id: int | None = None

    @property
    def slots(self) -> list[str]:
        return [s for s in ("inapp", "preferred", "digest") if getattr(self, s)]


_FALLBACK_SLA = {"critical": 4, "high": 24, "medium": 72, "low": 168}


def _policy(severity: str, result: dict[str, Any], version_id: int | None) -> PushPolicy:
    try:
        sla = float(result.get("sla_hours") or _FALLBACK_SLA.get(severity, 72))
    except (TypeError, ValueError):
        sla = float(_FALLBACK_SLA.get(severity, 72))
    roles = tuple(r.strip() for r in str(result.get("escalate_to") or "").split(",") if r.strip())
    try:
        priority = int(result.get("priority") or 20)
    except (TypeError, ValueError):
        priority = 20
    stop_on = str(result.get("stop_on") or "acknowledged")
    return PushPolicy(
        severity=severity,
        # the inbox is the floor: an alert nobody configured a channel for still reaches someone
        inapp=bool(result.get("inapp", True))
        or not (result.get("preferred") or result.get("digest")),
        preferred=bool(result.get("preferred")),
        digest=bool(result.get("digest")),
        sla_hours=max(sla, 0.25),
        stop_on=stop_on if stop_on in ("acknowledged", "closed") else "acknowledged",
        escalate_to=roles,
        priority=priority if priority in (10, 20, 30) else 20,
        default_assignee=str(result.get("default_assignee") or "").strip(),
        version_id=version_id,
    )


def policies() -> dict[str, PushPolicy]:
    """The published policy for each severity (one evaluation per severity)."""
    from credo.rules.services import published_version, run_version

    version = published_version(PUSH_KEY)
    return {
        sev: _policy(sev, run_version(version, {"severity": sev}, trace=False)[0] or {}, version.pk)
        for sev in Severity.values
    }


def policy_for(severity: str, pols: dict[str, PushPolicy]) -> PushPolicy:
    return pols.get(severity) or pols[Severity.MEDIUM]


def sla_hours(severity: str, rule_hours: Any, pols: dict[str, PushPolicy]) -> float:
    """The time limit of a new alert: the severity's SLA, shortened by the rule's own limit
    when the rule sets a shorter one (a rule may tighten the limit, never loosen it)."""
    hours = policy_for(severity, pols).sla_hours
    try:
        own = float(rule_hours or 0)
    except (TypeError, ValueError):
        own = 0
    return min(hours, own) if own > 0 else hours


# --- who gets an alert ----------------------------------------------------------------------------
class Assigner:
    """The assignee of a new alert: the 风控经理 of the customer's branch, else the policy's
    default assignee (a username), else a 风控经理 whose data scope covers every branch, else the
    customer's owner. Loads the candidates once per batch."""

    def __init__(self, pols: dict[str, PushPolicy]) -> None:
        self.by_branch: dict[int, int] = {}
        self.anywhere: int | None = None
        users = (
            User.objects.filter(is_active=True, roles__code="risk_manager")
            .select_related("org_unit__parent__parent")
            .order_by("id")
            .distinct()
        )
        for user in users:
            branch = user.branch
            if branch is not None:
                self.by_branch.setdefault(branch.pk, user.pk)
            if self.anywhere is None and (branch is None or user.data_scope == DataScope.ALL):
                self.anywhere = user.pk
        names = {p.default_assignee for p in pols.values() if p.default_assignee}
        found = dict(
            User.objects.filter(username__in=names, is_active=True).values_list("username", "id")
            if names
            else []
        )
        self.defaults = {
            sev: found.get(p.default_assignee) for sev, p in pols.items() if p.default_assignee
        }

    def assignee(self, *, branch_id: int | None, owner_id: int, severity: str) -> int:
        if branch_id is not None and branch_id in self.by_branch:
            return self.by_branch[branch_id]
        default = self.defaults.get(severity)
        if default is not None:
            return default
        return self.anywhere if self.anywhere is not None else owner_id


# --- sending ------------------------------------------------------------------------------------
#: the alert page (``monitoring:alert_detail``), written out like the other monitoring todos:
#: ``reverse`` would import the whole URLconf (API included, ~2.5 s) into a batch worker
ALERT_URL = "/monitoring/alerts/{}/"
ALERT_LIST_URL = "/monitoring/alerts/"


def alert_url(alert_id: int) -> str:
    return ALERT_URL.format(int(alert_id))


def preferred_kinds(user_ids: Iterable[int]) -> dict[int, str]:
    """user id → the first kind of the user's preferred channels other than the inbox that a
    configured (or simulated) channel carries; users without one are absent."""
    from credo.notify.models import NotifyPreference
    from credo.notify.services import channel_for

    rows = NotifyPreference.objects.filter(user_id__in=list(set(user_ids))).values_list(
        "user_id", "preferred"
    )
    usable: dict[str, bool] = {}
    out: dict[int, str] = {}
    for user_id, preferred in rows:
        for kind in preferred or []:
            if kind not in PREFERRED_KINDS:
                continue
            if kind not in usable:
                usable[kind] = channel_for(kind) is not None
            if usable[kind]:
                out[user_id] = kind
                break
    return out


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _notices(
    *,
    template: str,
    alert_id: int,
    user: Any,
    context: dict[str, Any],
    slots: list[str],
    preferred: str | None,
    key: str,
) -> list[Any]:
    """One notice per channel slot; ``preferred`` falls back to the inbox (once) when the user
    has no usable preferred channel."""
    from credo.notify.services import Notice

    kinds: list[tuple[str, str]] = []
    if "inapp" in slots:
        kinds.append(("inapp", "inapp"))
    if "preferred" in slots:
        if preferred:
            kinds.append(("preferred", preferred))
        elif "inapp" not in slots:
            kinds.append(("inapp", "inapp"))
    url = alert_url(alert_id)
    return [
        Notice(
            template=template,
            context=context,
            user=user,
            channel=kind,
            dedupe_key=f"{key}:{slot}",
            url=url,
        )
        for slot, kind in kinds
    ]


def _context(row: Mapping[str, Any], assignee: Any) -> dict[str, Any]:
    return {
        "rule_name": row["rule_name"],
        "severity": str(Severity(row["severity"]).label)
        if row["severity"] in Severity.values
        else row["severity"],
        "customer_name": row["customer__name"],
        "loan_number": row["loan__number"],
        "due_at": _local(row["due_at"]),
        "assignee": str(assignee),
        "url": alert_url(row["id"]),
    }


def alerts_push(
    alert_ids: Iterable[int] | None = None,
    *,
    source: str = "nightly",
    now: dt.datetime | None = None,
    actor: Any = None,
    limit: int | None = None,
) -> Counter[str]:
    """Tell the assignees of the not-yet-pushed, not-closed alerts (``alert_ids``; ``None``:
    every such alert, oldest first, at most ``limit``): a todo due by the alert's time limit and
    the messages the severity's policy names. Returns counts (``alerts_pushed``,
    ``alert_todos``, ``alert_messages``, ``alert_digest_pending``)."""
    now = now or timezone.now()
    counts: Counter[str] = Counter()
    if alert_ids is not None:
        ids = sorted(set(alert_ids))
        for start in range(0, len(ids), CHUNK):
            counts.update(_push_chunk(ids[start : start + CHUNK], source, now, actor))
        return counts
    pending = list(
        Alert.objects.filter(pushed_at__isnull=True)
        .exclude(status=Alert.Status.CLOSED)
        .order_by("id")
        .values_list("id", flat=True)[: limit or 10 * CHUNK]
    )
    for start in range(0, len(pending), CHUNK):
        counts.update(_push_chunk(pending[start : start + CHUNK], source, now, actor))
    return counts


def _push_chunk(ids: list[int], source: str, now: dt.datetime, actor: Any) -> Counter[str]:
    from credo.core.todo.models import Todo
    from credo.notify.services import notify_many

    counts: Counter[str] = Counter()
    pols = policies()
    with transaction.atomic():
        # SKIP LOCKED: a concurrent push of the same alerts takes the others, never these twice
        rows = list(
            Alert.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(pk__in=ids, pushed_at__isnull=True)
            .exclude(status=Alert.Status.CLOSED)
            .exclude(assignee__isnull=True)
            .order_by("id")
            .values(
                "id",
                "severity",
                "assignee_id",
                "rule_name",
                "customer__name",
                "loan__number",
                "due_at",
            )
        )
        if not rows:
            return counts
        users = User.objects.only("id", "email", "username", "display_name").in_bulk(
            list({r["assignee_id"] for r in rows})
        )
        preferred = preferred_kinds(users)
        notices: list[Any] = []
        todos: list[Todo] = []
        digest: list[int] = []
        severities: Counter[str] = Counter()
        for row in rows:
            policy = policy_for(row["severity"], pols)
            user = users[row["assignee_id"]]
            severities[row["severity"]] += 1
            context = _context(row, user)
            notices.extend(
                _notices(
                    template=RAISED_TEMPLATE,
                    alert_id=row["id"],
                    user=user,
                    context=context,
                    slots=policy.slots,
                    preferred=preferred.get(user.pk),
                    key=f"monitoring.alert:{row['id']}",
                )
            )
            if policy.digest:
                digest.append(row["id"])
            todos.append(
                Todo(
                    user_id=user.pk,
                    title=(
                        _("处理预警：%(r)s（%(c)s，贷款 %(l)s）")
                        % {
                            "r": row["rule_name"],
                            "c": row["customer__name"],
                            "l": row["loan__number"],
                        }
                    )[:200],
                    description=_("严重程度：%(s)s；请在 %(d)s 前处理。")
                    % {"s": context["severity"], "d": context["due_at"]},
                    due_date=timezone.localtime(row["due_at"]).date(),
                    url=alert_url(row["id"]),
                    source="monitoring",
                    priority=policy.priority,
                    dedupe_key=f"alert:{row['id']}:handle",
                    created_at=now,
                )
            )
        result = notify_many(notices, actor=actor, category="service", now=now)
        # the todos a previous push already wrote are left alone (and not counted)
        have = set(
            Todo.objects.filter(dedupe_key__in=[t.dedupe_key for t in todos]).values_list(
                "user_id", "dedupe_key"
            )
        )
        created = [t for t in todos if (t.user_id, t.dedupe_key) not in have]
        Todo.objects.bulk_create(created, ignore_conflicts=True, batch_size=CHUNK)
        pushed = [r["id"] for r in rows]
        Alert.objects.filter(pk__in=pushed).update(pushed_at=now)
        if digest:
            Alert.objects.filter(pk__in=digest).update(digest_pending=True)
        counts["alerts_pushed"] = len(pushed)
        counts["alert_todos"] = len(created)
        counts["alert_messages"] = result.created
        counts["alert_digest_pending"] = len(digest)
        audit_record(
            action="monitoring.alert_raised",
            actor=actor,
            object_type="monitoring.alert",
            object_id=pushed[0] if len(pushed) == 1 else "",
            object_repr=(
                rows[0]["rule_name"] if len(pushed) == 1 else _("%(n)s 条预警") % {"n": len(pushed)}
            )[:200],
            metadata={
                "alert_ids": pushed,
                "count": len(pushed),
                "severities": dict(severities),
                "assignee_ids": sorted({r["assignee_id"] for r in rows}),
                "source": source,
                "messages": result.created,
                "messages_suppressed": result.suppressed,
                "todos": len(created),
                "policy_version": policy_for(Severity.MEDIUM, pols).version_id,
            },
        )
    return counts


# --- the daily digest -----------------------------------------------------------------------------
def alerts_digest(*, now: dt.datetime | None = None, actor: Any = None) -> Counter[str]:
    """One summary per assignee of the alerts waiting for the digest (medium by default), through
    the assignee's preferred channel (else the inbox); each alert is summed up once."""
    from credo.notify.services import Notice, notify_many

    now = now or timezone.now()
    counts: Counter[str] = Counter()
    day = timezone.localdate(now)
    with transaction.atomic():
        rows = list(
            Alert.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(digest_pending=True, digested_at__isnull=True)
            .exclude(status=Alert.Status.CLOSED)
            .exclude(assignee__isnull=True)
            .order_by("assignee_id", "id")
            .values("id", "assignee_id", "rule_name", "customer__name", "loan__number", "due_at")
        )
        if not rows:
            return counts
        by_user: dict[int, list[Mapping[str, Any]]] = {}
        for row in rows:
            by_user.setdefault(row["assignee_id"], []).append(row)
        users = User.objects.only("id", "email", "username", "display_name").in_bulk(list(by_user))
        preferred = preferred_kinds(users)
        notices = []
        for user_id, items in by_user.items():
            lines = "\n".join(
                f"· {r['rule_name']}｜{r['customer__name']}｜{r['loan__number']}｜"
                + _("时限 %(d)s") % {"d": _local(r["due_at"])}
                for r in items[:50]
            )
            if len(items) > 50:
                lines += "\n" + _("……另有 %(n)s 条") % {"n": len(items) - 50}
            notices.append(
                Notice(
                    template=DIGEST_TEMPLATE,
                    context={"count": len(items), "lines": lines, "day": day.isoformat()},
                    user=users[user_id],
                    channel=preferred.get(user_id, "inapp"),
                    dedupe_key=f"monitoring.digest:{user_id}:{day.isoformat()}",
                    url=f"{ALERT_LIST_URL}?assignee={user_id}",
                )
            )
        result = notify_many(notices, actor=actor, category="service", now=now)
        ids = [r["id"] for r in rows]
        Alert.objects.filter(pk__in=ids).update(digest_pending=False, digested_at=now)
        counts["digest_users"] = len(by_user)
        counts["digest_alerts"] = len(ids)
        counts["digest_messages"] = result.created
        audit_record(
            action="monitoring.alert_digest",
            actor=actor,
            object_type="monitoring.alert",
            metadata={"alert_ids": ids, "users": sorted(by_user), "day": day.isoformat()},
        )
    return counts


# --- SLA escalation -------------------------------------------------------------------------------
def _overdue(now: dt.datetime, pols: dict[str, PushPolicy]) -> Any:
    """Not-closed alerts past their time limit that the policy says are still unhandled."""
    handled_since = AlertAction.objects.filter(
        alert=OuterRef("pk"), kind__in=HANDLING, created_at__gt=OuterRef("escalated_at")
    )
    stopped = Q()
    for sev, policy in pols.items():
        if policy.stop_on == "acknowledged":
            # acknowledged or being handled: the clock stopped; an escalated alert stops it
            # again once someone acts on it after the escalation
            stopped |= Q(severity=sev) & (
                Q(status__in=(Alert.Status.ACKNOWLEDGED, Alert.Status.IN_PROGRESS))
                | Q(status=Alert.Status.ESCALATED, _handled=True)
            )
    return (
        Alert.objects.exclude(status=Alert.Status.CLOSED)
        .filter(due_at__lt=now)
        .annotate(_handled=Exists(handled_since))
        .exclude(stopped)
        .order_by("due_at", "id")
    )


def overdue_alerts(now: dt.datetime | None = None) -> Any:
    return _overdue(now or timezone.now(), policies())


class Escalator:
    """Escalation targets: for each role of the policy's ``escalate_to`` in turn, a user with
    that role in the assignee's team (else the alert's team), else in the alert's branch, else
    at head office; never the current assignee."""

    def __init__(self, roles: Iterable[str]) -> None:
        self.users: dict[str, list[tuple[int, int | None, int | None]]] = {}
        wanted = sorted(set(roles))
        qs = (
            User.objects.filter(is_active=True, roles__code__in=wanted)
            .select_related("org_unit__parent__parent")
            .prefetch_related("roles")
            .order_by("id")
            .distinct()
        )
        for user in qs:
            team = user.team
            branch = user.branch
            for role in user.roles.all():
                if role.code in wanted:
                    self.users.setdefault(role.code, []).append(
                        (user.pk, team.pk if team else None, branch.pk if branch else None)
                    )

    def target(
        self, role: str, *, assignee_team: int | None, alert: Alert, exclude: int | None
    ) -> int | None:
        candidates = [c for c in self.users.get(role, []) if c[0] != exclude]
        for team in (assignee_team, alert.team_id):
            if team is not None:
                for pk, t, _b in candidates:
                    if t == team:
                        return pk
        if alert.branch_id is not None:
            for pk, _t, b in candidates:
                if b == alert.branch_id:
                    return pk
        for pk, _t, b in candidates:
            if b is None:
                return pk
        return None


def alerts_escalate(
    *, now: dt.datetime | None = None, actor: Any = None, limit: int = MAX_ESCALATIONS_PER_RUN
) -> Counter[str]:
    """Escalate the alerts past their SLA (the scheduled task ``monitoring.escalate``): each in
    its own transaction — status → 已升级 through the state machine, the next target of the
    policy's chain becomes the assignee with a new time limit, a todo and a message for the
    target, audited (``monitoring.alert_escalate``) and on the customer's timeline."""
    now = now or timezone.now()
    pols = policies()
    counts: Counter[str] = Counter()
    candidates = list(_overdue(now, pols).values_list("id", flat=True)[:limit])
    if not candidates:
        return counts
    escalator = Escalator({r for p in pols.values() for r in p.escalate_to})
    for pk in candidates:
        outcome = _escalate_one(pk, now=now, pols=pols, escalator=escalator, actor=actor)
        counts[outcome] += 1
    return counts


def _escalate_one(
    pk: int, *, now: dt.datetime, pols: dict[str, PushPolicy], escalator: Escalator, actor: Any
) -> str:
    from credo.monitoring.services import _log

    with transaction.atomic():
        alert = (
            _overdue(now, pols)
            .select_for_update(of=("self",), skip_locked=True)
            .select_related("customer", "loan", "assignee__org_unit")
            .filter(pk=pk)
            .first()
        )
        if alert is None:  # handled, closed or taken by another worker meanwhile
            return "escalation_skipped"
        policy = policy_for(alert.severity, pols)
        roles = policy.escalate_to
        assignee_team = alert.assignee.team.pk if alert.assignee and alert.assignee.team else None
        target = None
        level = alert.escalation_level
        for index in range(alert.escalation_level, len(roles)):
            target = escalator.target(
                roles[index], assignee_team=assignee_team, alert=alert, exclude=alert.assignee_id
            )
            if target is not None:
                level = index + 1
                break
        if target is None:
            return "escalation_no_target"
        before, old_due = alert.assignee_id, alert.due_at
        alert.assignee_id = target
        alert.escalation_level = level
        alert.escalated_at = now
        alert.due_at = now + dt.timedelta(hours=policy.sla_hours)
        fsm.transition(
            alert,
            Alert.Status.ESCALATED,
            update_fields=("assignee", "escalation_level", "escalated_at", "due_at"),
            allow_same=True,
        )
        note = _("超过处理时限（%(d)s）未处理，自动升级。") % {"d": _local(old_due)}
        _log(
            alert,
            AlertAction.Kind.ESCALATE,
            actor,
            note,
            reason="sla",
            level=level,
            role=roles[level - 1],
            from_user=before,
            to_user=target,
            overdue_since=old_due.isoformat(),
        )
        push_escalation(alert, User.objects.get(pk=target), note=note, key=str(level), now=now)
    return "escalated"


def push_escalation(
    alert: Alert, user: Any, *, note: str, key: str, now: dt.datetime | None = None
) -> None:
    """The escalation target's todo and messages (the inbox and the preferred channel: an
    escalation is urgent whatever the severity). Inside the escalating transaction."""
    from credo.core.todo.models import Todo
    from credo.core.todo.services import todo_create
    from credo.notify.services import notify_many

    todo_create(
        user=user,
        title=(
            _("预警升级：%(r)s（%(c)s，贷款 %(l)s）")
            % {"r": alert.rule_name, "c": alert.customer.name, "l": alert.loan.number}
        )[:200],
        description=note,
        due_date=timezone.localtime(alert.due_at).date(),
        url=alert_url(alert.pk),
        source="monitoring",
        priority=Todo.Priority.HIGH,
        dedupe_key=f"alert:{alert.pk}:escalation:{key}",
    )
    row = {
        "id": alert.pk,
        "rule_name": alert.rule_name,
        "severity": alert.severity,
        "customer__name": alert.customer.name,
        "loan__number": alert.loan.number,
        "due_at": alert.due_at,
    }
    notify_many(
        _notices(
            template=ESCALATED_TEMPLATE,
            alert_id=alert.pk,
            user=user,
            context={**_context(row, user), "note": note},
            slots=["inapp", "preferred"],
            preferred=preferred_kinds([user.pk]).get(user.pk),
            key=f"monitoring.alert:{alert.pk}:escalation:{key}",
        ),
        category="service",
        now=now,
    )


# --- closing ------------------------------------------------------------------------------------
def alert_todo_keys(alert_ids: Iterable[int], levels: int = 5) -> list[str]:
    keys = []
    for pk in alert_ids:
        keys.append(f"alert:{pk}:handle")
        keys.extend(f"alert:{pk}:escalation:{n}" for n in range(1, levels + 1))
    return keys


def cancel_alert_todos(alert_ids: list[int], *, actor: Any = None) -> int:
    """Cancel the open handling and escalation todos of closed alerts (set-based)."""
    from credo.core.todo import states as todo_states  # noqa: F401 — registers the machine
    from credo.core.todo.models import Todo

    if not alert_ids:
        return 0
    ids = list(alert_ids)
    n = 0
    if len(alert_ids) == 1:  # one alert (closed by a person): every escalation todo too
        pk = alert_ids[0]
        n = fsm.transition_queryset(
            Todo.objects.filter(
                Q(dedupe_key=f"alert:{pk}:handle")
                | Q(dedupe_key__startswith=f"alert:{pk}:escalation:")
            ),
            Todo.Status.CANCELLED,
        )
        alert_ids = []
    for start in range(0, len(alert_ids), 500):
        chunk = alert_ids[start : start + 500]
        n += fsm.transition_queryset(
            Todo.objects.filter(dedupe_key__in=alert_todo_keys(chunk)), Todo.Status.CANCELLED
        )
    if n:
        audit_record(
            action="monitoring.alert_todos_cancelled",
            actor=actor,
            object_type="monitoring.alert",
            metadata={"alert_ids": ids[:5000], "todos": n},
        )
    return n
