"""The nightly monitoring batch: indicators → rules (E2) → alerts, then retention (F5).

Rules run over every loan's indicator row with the published ``monitoring.rules`` version.
Identical inputs give identical results, so each distinct input is evaluated once; only hits
are evaluated again with a trace to record the matched rows on the alert.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.models import User
from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.customers.models import Customer, CustomerEvent
from credo.monitoring import indicators, states  # noqa: F401 — registers the machines
from credo.monitoring.models import Alert, AlertAction, LoanIndicator
from credo.rules.services import published_version, run_version

RULES_KEY = "monitoring.rules"
RETENTION_KEY = "retention.triggers"
CHUNK = 2000


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
    day: dt.date, *, loan_ids: list[int] | None = None, actor: Any = None
) -> dict[str, int]:
    """Compute indicators for ``day``, evaluate the monitoring rules and reconcile alerts; then
    the retention triggers. Safe to run twice and concurrently (one open alert per rule/loan)."""
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    counts["loans"] = indicators.compute(day, loan_ids)
    counts["ms_indicators"] = int((time.perf_counter() - started) * 1000)
    qs = LoanIndicator.objects.filter(as_of=day)
    if loan_ids is not None:
        qs = qs.filter(loan_id__in=loan_ids)
    rows = list(qs.filter(open=True))
    version, results = evaluate(RULES_KEY, [(r.loan_id, r.rule_input()) for r in rows])
    hits: dict[tuple[str, int], tuple[LoanIndicator, dict[str, Any]]] = {}
    for row in rows:
        for hit in (results[row.loan_id] or {}).get("hits") or []:
            hits[(str(hit.get("code")), row.loan_id)] = (row, hit)
    counts["hits"] = len(hits)
    counts["ms_rules"] = int((time.perf_counter() - started) * 1000) - counts["ms_indicators"]
    counts.update(_reconcile(day, rows, hits, version))
    if loan_ids is None and auto_close_enabled():
        # loans that left the open book (paid off, written off): their alerts cannot clear
        gone = list(
            Alert.objects.exclude(status=Alert.Status.CLOSED)
            .exclude(loan_id__in=LoanIndicator.objects.filter(as_of=day, open=True).values("pk"))
            .values_list("id", flat=True)
        )
        if gone:
            counts["alerts_auto_closed"] += _auto_close(gone)
    counts["ms_alerts"] = int((time.perf_counter() - started) * 1000) - sum(
        counts[k] for k in ("ms_indicators", "ms_rules")
    )
    from credo.monitoring.retention import run_retention

    counts.update(run_retention(day, loan_ids=loan_ids))
    counts["ms_total"] = int((time.perf_counter() - started) * 1000)
    with transaction.atomic():
        audit_record(
            action="monitoring.run",
            actor=actor,
            object_type="monitoring.run",
            object_id=day.isoformat(),
            metadata={"business_date": day.isoformat(), "counts": dict(counts)},
        )
    return dict(counts)


def _reconcile(
    day: dt.date,
    rows: list[LoanIndicator],
    hits: dict[tuple[str, int], tuple[LoanIndicator, dict[str, Any]]],
    version: Any,
) -> Counter[str]:
    counts: Counter[str] = Counter()
    loan_ids = [r.loan_id for r in rows]
    existing: dict[tuple[str, int], int] = {}
    for start in range(0, len(loan_ids), 5000):
        part = loan_ids[start : start + 5000]
        for pk, code, loan_id in (
            Alert.objects.exclude(status=Alert.Status.CLOSED)
            .filter(loan_id__in=part)
            .values_list("id", "rule_code", "loan_id")
        ):
            existing[(code, loan_id)] = pk
    new_keys = [k for k in hits if k not in existing]
    if new_keys:
        counts["alerts_created"] = _create_alerts(day, new_keys, hits, version)
    seen = [existing[k] for k in hits if k in existing]
    for start in range(0, len(seen), 5000):
        Alert.objects.filter(pk__in=seen[start : start + 5000]).update(last_seen_on=day)
    cleared = [pk for k, pk in existing.items() if k not in hits]
    if cleared and auto_close_enabled():
        counts["alerts_auto_closed"] = _auto_close(cleared)
    return counts


def _create_alerts(
    day: dt.date,
    keys: list[tuple[str, int]],
    hits: dict[tuple[str, int], tuple[LoanIndicator, dict[str, Any]]],
    version: Any,
) -> int:
    customers = {
        c["id"]: c
        for c in Customer.objects.filter(pk__in={hits[k][0].customer_id for k in keys}).values(
            "id", "owner_id", "team_id", "branch_id"
        )
    }
    managers = users_with_role("risk_manager")
    now = timezone.now()
    trace_cache: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    alerts = []
    for key in keys:
        row, hit = hits[key]
        data = row.rule_input()
        sig = tuple(data.values())
        if sig not in trace_cache:
            trace_cache[sig] = run_version(version, data, trace=True)[1]
        reasons = [
            r for r in trace_cache[sig] if r.get("description") and _reason_matches(r, hit, version)
        ] or trace_cache[sig]
        c = customers[row.customer_id]
        assignee = managers.get(c["branch_id"]) or managers.get(None)
        alerts.append(
            Alert(
                rule_code=key[0],
                rule_name=str(hit.get("name") or key[0])[:80],
                severity=hit.get("severity") or "medium",
                loan_id=row.loan_id,
                customer_id=row.customer_id,
                reasons=reasons,
                snapshot={**data, "as_of": day.isoformat()},
                rules_version=version,
                business_date=day,
                last_seen_on=day,
                assignee_id=assignee.pk if assignee else c["owner_id"],
                owner_id=c["owner_id"],
                team_id=c["team_id"],
                branch_id=c["branch_id"],
                due_at=now + dt.timedelta(hours=float(hit.get("sla_hours") or 72)),
            )
        )
    created = 0
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
        created = len(fresh)
    return created


def _reason_matches(reason: dict[str, Any], hit: dict[str, Any], version: Any) -> bool:
    """The matched row whose output code is the hit's code."""
    for node in version.content.get("nodes", []):
        for rule in (node.get("content") or {}).get("rules", []) or []:
            if rule.get("_id") == reason.get("rule"):
                return f'"{hit.get("code")}"' in [str(v).strip() for v in rule.values()]
    return False


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
    return n


def on_eod_done(run: Any) -> None:
    """After the day's EOD: small books run inline, large ones as a background task."""
    from credo.lending.models import Loan

    if Loan.objects.filter(status__in=indicators.OPEN).count() <= 20000:
        run_monitoring(run.business_date)
    else:
        from credo.monitoring.tasks import monitoring_run

        monitoring_run.enqueue(run.business_date.isoformat())
