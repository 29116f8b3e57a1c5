"""The nightly monitoring batch: indicators → rules (E2) → alerts, then retention (F5).

Rules run over every loan's indicator row with the published ``monitoring.rules`` version.
Identical inputs give identical results, so each distinct input is evaluated once; only hits
are evaluated again with a trace to record the matched rows on the alert.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.accounts.models import User
from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.customers.models import Customer, CustomerEvent
from credo.monitoring import indicators, states  # noqa: F401 — registers the machines
from credo.monitoring.models import RULE_FIELDS, Alert, AlertAction, LoanIndicator
from credo.rules.services import published_version, run_version

# Display names of the counts ``on_eod_done`` returns (``register_after_close_job(...,
# result_labels=RESULT_LABELS)``); the retention_<trigger> counts are named by their trigger.
RESULT_LABELS = {
    "loans": gettext_lazy("贷款"),
    "hits": gettext_lazy("规则命中"),
    "alerts_created": gettext_lazy("新建预警"),
    "alerts_auto_closed": gettext_lazy("自动关闭预警"),
    "alerts_pushed": gettext_lazy("已推送预警"),
    "alert_todos": gettext_lazy("预警待办"),
    "alert_messages": gettext_lazy("预警消息"),
    "alert_digest_pending": gettext_lazy("待每日汇总预警"),
    "retention_renewal": gettext_lazy("续贷邀请"),
    "retention_good_customer": gettext_lazy("优质客户维护"),
    "invites_queued": gettext_lazy("续贷邀请已入队"),
    "invites_suppressed": gettext_lazy("续贷邀请被拦截"),
    "invites_failed": gettext_lazy("续贷邀请失败"),
    "ms_indicators": gettext_lazy("指标计算（毫秒）"),
    "ms_rules": gettext_lazy("规则评估（毫秒）"),
    "ms_alerts": gettext_lazy("预警处理（毫秒）"),
    "ms_total": gettext_lazy("耗时（毫秒）"),
}
RULES_KEY = "monitoring.rules"
RETENTION_KEY = "retention.triggers"
CHUNK = 2000


@dataclass(frozen=True)
class IndicatorRow:
    """The part of a ``LoanIndicator`` the rules read (a tuple from ``values_list``: building
    100,000 model instances per run cost more than the rules themselves)."""

    loan_id: int
    customer_id: int
    data: dict[str, Any]

    def rule_input(self) -> dict[str, Any]:
        return dict(self.data)


def indicator_rows(qs: Any) -> list[IndicatorRow]:
    """The rule inputs of the indicator rows of ``qs`` in one streamed query."""
    n = len(RULE_FIELDS)
    return [
        IndicatorRow(r[0], r[1], dict(zip(RULE_FIELDS, r[2 : 2 + n], strict=True)))
        for r in qs.values_list("loan_id", "customer_id", *RULE_FIELDS).iterator(chunk_size=CHUNK)
    ]


@dataclass(frozen=True)
class InputGroup:
    """The loans of ``qs`` sharing one rule input: the rules see only ``data``, so each group
    is evaluated once whatever its size (a book of 100,000 loans has a few thousand)."""

    data: dict[str, Any]
    loans: list[tuple[int, int]]  # (loan id, customer id), by loan id

    def rows(self) -> list[IndicatorRow]:
        return [IndicatorRow(loan_id, cid, self.data) for loan_id, cid in self.loans]


def indicator_groups(qs: Any) -> list[InputGroup]:
    """The distinct rule inputs of the indicator rows of ``qs`` with their loans. PostgreSQL:
    one ``GROUP BY`` over the rule fields with the loan and customer ids aggregated into arrays
    (no row per loan crosses into Python); elsewhere the rows grouped in Python."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.aggregates import ArrayAgg

        out = []
        grouped = (
            qs.order_by()
            .values(*RULE_FIELDS)
            .annotate(
                _loans=ArrayAgg("loan_id", order_by="loan_id"),
                _customers=ArrayAgg("customer_id", order_by="loan_id"),
            )
            .values_list(*RULE_FIELDS, "_loans", "_customers")
        )
        n = len(RULE_FIELDS)
        for r in grouped.iterator(chunk_size=CHUNK):
            out.append(
                InputGroup(
                    dict(zip(RULE_FIELDS, r[:n], strict=True)),
                    list(zip(r[n], r[n + 1], strict=True)),
                )
            )
        return out
    groups: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
    for r in qs.order_by("loan_id").values_list(*RULE_FIELDS, "loan_id", "customer_id"):
        groups.setdefault(r[:-2], []).append((r[-2], r[-1]))
    return [
        InputGroup(dict(zip(RULE_FIELDS, sig, strict=True)), loans) for sig, loans in groups.items()
    ]


#: rule codes of alerts raised by a business event (a failed 贷后检查 …) rather than by the
#: indicator rules; the nightly reconciliation never auto-closes them.
EVENT_RULE_PREFIX = "event."


def auto_close_enabled() -> bool:
    return bool(getattr(settings, "CREDO_MONITORING_AUTO_CLOSE", True))


def users_with_role(code: str) -> dict[int | None, User]:
    """Active users with role ``code``: {branch id: first user}; key None = any."""
    out: dict[int | None, User] = {}
    users = (
        User.objects.filter(is_active=True, roles__code=code)
        .select_related("org_unit__parent__parent")
        .order_by("id")
        .distinct()
    )
    for user in users:
        branch = user.branch
        out.setdefault(branch.pk if branch else None, user)
        out.setdefault(None, user)
    return out


def evaluate(key: str, items: list[tuple[int, dict[str, Any]]]) -> tuple[Any, dict[int, Any]]:
    """(version, {subject id: (result, reasons)}) with one evaluation per distinct input."""
    version = published_version(key)
    cache: dict[tuple[Any, ...], dict[str, Any]] = {}
    out: dict[int, Any] = {}
    for subject_id, data in items:
        sig = tuple(data.values())
        if sig not in cache:
            cache[sig] = run_version(version, data, trace=False)[0]
        out[subject_id] = cache[sig]
    return version, out


def run_monitoring(
    day: dt.date,
    *,
    loan_ids: list[int] | None = None,
    actor: Any = None,
    retention: bool = True,
    source: str = "nightly",
) -> dict[str, int]:
    """Compute indicators for ``day``, evaluate the monitoring rules and reconcile alerts, push
    the new alerts to their assignees (``push.alerts_push``); then the retention triggers
    (``retention=False``: not — the same-day checks re-evaluate risk only). Safe to run twice
    and concurrently (one open alert per rule/loan, each alert pushed once)."""
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    counts["loans"] = indicators.compute(day, loan_ids)
    counts["ms_indicators"] = int((time.perf_counter() - started) * 1000)
    qs = LoanIndicator.objects.filter(as_of=day)
    if loan_ids is not None:
        qs = qs.filter(loan_id__in=loan_ids)
    open_rows = qs.filter(open=True)
    groups = indicator_groups(open_rows)
    version, results = evaluate(RULES_KEY, list(enumerate(g.data for g in groups)))
    found: list[tuple[int, str, IndicatorRow, dict[str, Any]]] = []
    for n, group in enumerate(groups):
        for hit in (results[n] or {}).get("hits") or []:
            found.extend((r.loan_id, str(hit.get("code")), r, hit) for r in group.rows())
    found.sort(key=lambda f: f[0])  # alerts are created in loan order
    hits = {(code, loan_id): (row, hit) for loan_id, code, row, hit in found}
    counts["hits"] = len(hits)
    counts["ms_rules"] = int((time.perf_counter() - started) * 1000) - counts["ms_indicators"]
    reconciled, created_ids = _reconcile(day, open_rows, hits, version)
    counts.update(reconciled)
    if loan_ids is None and auto_close_enabled():
        # loans that left the open book (paid off, written off): their alerts cannot clear
        gone = list(
            Alert.objects.exclude(status=Alert.Status.CLOSED)
            .exclude(loan_id__in=LoanIndicator.objects.filter(as_of=day, open=True).values("pk"))
            .values_list("id", flat=True)
        )
        if gone:
            counts["alerts_auto_closed"] += _auto_close(gone)
    if created_ids:
        from credo.monitoring.push import alerts_push

        counts.update(alerts_push(created_ids, source=source, actor=actor))
    counts["ms_alerts"] = int((time.perf_counter() - started) * 1000) - sum(
        counts[k] for k in ("ms_indicators", "ms_rules")
    )
    if retention:
        from credo.monitoring.retention import run_retention

        counts.update(run_retention(day, loan_ids=loan_ids))
    counts["ms_total"] = int((time.perf_counter() - started) * 1000)
    with transaction.atomic():
        audit_record(
            action="monitoring.run" if source == "nightly" else f"monitoring.run_{source}",
            actor=actor,
            object_type="monitoring.run",
            object_id=day.isoformat(),
            metadata={
                "business_date": day.isoformat(),
                "counts": dict(counts),
                **({"loan_ids": loan_ids[:1000]} if loan_ids is not None else {}),
            },
        )
    return dict(counts)


def _reconcile(
    day: dt.date,
    open_rows: Any,
    hits: dict[tuple[str, int], tuple[IndicatorRow, dict[str, Any]]],
    version: Any,
) -> tuple[Counter[str], list[int]]:
    """Create the new alerts, mark the still-hit ones seen, auto-close the cleared ones among
    the not-closed alerts of the loans of ``open_rows`` (a queryset of indicator rows).
    Returns the counts and the ids of the alerts created."""
    counts: Counter[str] = Counter()
    created: list[int] = []
    existing: dict[tuple[str, int], int] = {
        (code, loan_id): pk
        for pk, code, loan_id in Alert.objects.exclude(status=Alert.Status.CLOSED)
        .filter(loan_id__in=open_rows.values("loan_id"))
        # alerts raised by a business event (services.alert_raise) are not the rules' to clear
        .exclude(rule_code__startswith=EVENT_RULE_PREFIX)
        .values_list("id", "rule_code", "loan_id")
    }
    new_keys = [k for k in hits if k not in existing]
    if new_keys:
        created = _create_alerts(day, new_keys, hits, version)
        counts["alerts_created"] = len(created)
    seen = [existing[k] for k in hits if k in existing]
    _mark_seen(day, seen)
    cleared = [pk for k, pk in existing.items() if k not in hits]
    if cleared and auto_close_enabled():
        counts["alerts_auto_closed"] = _auto_close(cleared)
    return counts, created


def _mark_seen(day: dt.date, alert_ids: list[int]) -> None:
    """``last_seen_on = day`` on the alerts still hit (those already marked are skipped: a
    re-run writes nothing). PostgreSQL: one statement with the ids as one array parameter."""
    if not alert_ids:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {Alert._meta.db_table} SET last_seen_on = %s "  # noqa: S608 — model table
                "WHERE id = ANY(%s::bigint[]) AND last_seen_on IS DISTINCT FROM %s",
                [day, alert_ids, day],
            )
        return
    for start in range(0, len(alert_ids), 5000):
        Alert.objects.filter(pk__in=alert_ids[start : start + 5000]).exclude(
            last_seen_on=day
        ).update(last_seen_on=day)


def _create_alerts(
    day: dt.date,
    keys: list[tuple[str, int]],
    hits: dict[tuple[str, int], tuple[IndicatorRow, dict[str, Any]]],
    version: Any,
) -> list[int]:
    from credo.monitoring.push import Assigner, policies, sla_hours

    customers = {
        c["id"]: c
        for c in Customer.objects.filter(pk__in={hits[k][0].customer_id for k in keys}).values(
            "id", "owner_id", "team_id", "branch_id"
        )
    }
    pols = policies()
    assigner = Assigner(pols)
    now = timezone.now()
    trace_cache: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    reasons_cache: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    outputs = _rule_outputs(version)
    alerts = []
    for key in keys:
        row, hit = hits[key]
        data = row.rule_input()
        sig = tuple(data.values())
        if sig not in trace_cache:
            trace_cache[sig] = run_version(version, data, trace=True)[1]
        if (sig, key[0]) not in reasons_cache:
            reasons_cache[(sig, key[0])] = [
                r
                for r in trace_cache[sig]
                if r.get("description") and _reason_matches(r, hit, outputs)
            ] or trace_cache[sig]
        reasons = reasons_cache[(sig, key[0])]
        c = customers[row.customer_id]
        severity = hit.get("severity") or "medium"
        alerts.append(
            Alert(
                rule_code=key[0],
                rule_name=str(hit.get("name") or key[0])[:80],
                severity=severity,
                loan_id=row.loan_id,
                customer_id=row.customer_id,
                reasons=reasons,
                snapshot={**data, "as_of": day.isoformat()},
                rules_version=version,
                business_date=day,
                last_seen_on=day,
                assignee_id=assigner.assignee(
                    branch_id=c["branch_id"], owner_id=c["owner_id"], severity=severity
                ),
                owner_id=c["owner_id"],
                team_id=c["team_id"],
                branch_id=c["branch_id"],
                due_at=now + dt.timedelta(hours=sla_hours(severity, hit.get("sla_hours"), pols)),
            )
        )
    with transaction.atomic():
        for start in range(0, len(alerts), CHUNK):
            # ON CONFLICT DO NOTHING on the partial unique index: a concurrent run that created
            # the same open alert first wins; this one silently skips it.
            Alert.objects.bulk_create(alerts[start : start + CHUNK], ignore_conflicts=True)
        fresh = list(
            Alert.objects.filter(business_date=day, status=Alert.Status.OPEN)
            .exclude(actions__isnull=False)
            .values_list("id", "customer_id", "rule_name", "severity", "loan__number")
        )
        AlertAction.objects.bulk_create(
            [AlertAction(alert_id=a[0], kind=AlertAction.Kind.CREATED) for a in fresh],
            batch_size=CHUNK,
        )
        CustomerEvent.objects.bulk_create(
            [
                CustomerEvent(
                    customer_id=cid,
                    kind=CustomerEvent.Kind.ALERT,
                    occurred_at=now,
                    title=(_("贷后预警：%(r)s（贷款 %(n)s）") % {"r": name, "n": number})[:200],
                    detail={"severity": sev},
                    source="monitoring",
                    object_type="monitoring.alert",
                    object_id=str(pk),
                )
                for pk, cid, name, sev, number in fresh
            ],
            batch_size=CHUNK,
        )
    return [a[0] for a in fresh]


def _rule_outputs(version: Any) -> dict[Any, set[str]]:
    """rule id → the cell values of the rule's row (once per run, not per alert)."""
    out: dict[Any, set[str]] = {}
    for node in version.content.get("nodes", []):
        for rule in (node.get("content") or {}).get("rules", []) or []:
            out.setdefault(rule.get("_id"), {str(v).strip() for v in rule.values()})
    return out


def _reason_matches(
    reason: dict[str, Any], hit: dict[str, Any], outputs: dict[Any, set[str]]
) -> bool:
    """The matched row whose output code is the hit's code."""
    return f'"{hit.get("code")}"' in outputs.get(reason.get("rule"), set())


def _auto_close(alert_ids: list[int]) -> int:
    note = _("条件已消除，系统自动关闭。")
    now = timezone.now()
    with transaction.atomic():
        # every open state may close (states.ALERT_MACHINE): the UPDATE skips closed rows
        n = fsm.transition_queryset(
            Alert.objects.filter(pk__in=alert_ids),
            Alert.Status.CLOSED,
            conclusion=note,
            closed_at=now,
        )
        AlertAction.objects.bulk_create(
            [
                AlertAction(alert_id=pk, kind=AlertAction.Kind.AUTO_CLOSE, note=note)
                for pk in alert_ids
            ],
            batch_size=CHUNK,
        )
        from credo.monitoring.push import cancel_alert_todos

        cancel_alert_todos(alert_ids)
    return n


def on_eod_done(run: Any) -> dict[str, int]:
    """After-close job ``monitoring`` (registered in ``listeners.py``; the pipeline runs it as
    its own task, so it runs inline here whatever the book size): indicators, rules, alerts and
    retention for the run's business date. Safe to re-run for the same date (upserted
    indicators, one open alert per rule and loan, each retention trigger once). Returns the
    counts the EOD runs page shows."""
    return run_monitoring(run.business_date)
