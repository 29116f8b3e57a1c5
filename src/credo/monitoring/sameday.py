"""Same-day risk checks (issue 23): events that change a loan's risk are not left to the next
close of business.

The event-stream consumer ``monitoring.sameday`` reads the risk-changing events — a reversed
repayment (``loan.repayment_reverse``; a bounced repayment is booked as exactly that reversal:
Credo has no separate bounce event, bank-statement debits are never imported as postings), new
litigation or news data (``customer.external_pull`` of those kinds, successful) and a risk flag
set on a customer (``customer.risk_flag``: 被执行人 from the judicial data or by hand; the
customer's related parties are re-checked too, for 关联方被执行) — and only records the open
loans to re-check (``SameDayCheck`` rows, one per event and loan) and enqueues, on commit, the
task ``monitoring_sameday``. The task runs the nightly batch's indicator computation, rules and
alert reconciliation for just those loans as of today (``batch.run_monitoring(loan_ids=…,
retention=False)``) and the new alerts are pushed exactly like the nightly ones.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from credo.core import clock
from credo.core.events.stream import Event
from credo.monitoring.models import SameDayCheck

log = logging.getLogger(__name__)

CONSUMER = "monitoring.sameday"
REVERSAL = "loan.repayment_reverse"
EXTERNAL_PULL = "customer.external_pull"
RISK_FLAG = "customer.risk_flag"
ACTIONS = (REVERSAL, EXTERNAL_PULL, RISK_FLAG)
#: external data kinds that feed the indicators (涉诉 / 被执行 / 负面舆情)
RISK_DATA_KINDS = ("litigation", "news")
#: risk flags the indicators read
RISK_FLAGS = ("judgment_debtor", "litigation")


def sameday_actions() -> list[str]:
    return list(ACTIONS)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _risk_flags_changed(ev: Event) -> bool:
    """A risk flag the indicators read was set or removed (``changes.risk_flags`` is
    ``[before, after]``; an unreadable change counts as relevant)."""
    value = (ev.changes or {}).get("risk_flags")
    if isinstance(value, dict):
        value = [value.get("old"), value.get("new")]
    if not (isinstance(value, list | tuple) and len(value) == 2):
        return True
    before, after = ({str(f) for f in (v or [])} for v in value)
    return bool((before ^ after) & set(RISK_FLAGS))


def _subjects(
    events: list[Event],
) -> tuple[dict[int, tuple[str, str]], dict[int, tuple[str, str]], dict[int, tuple[str, str]]]:
    """(loan id → (event key, action), customer id → …, flagged customer id → …) of the
    risk-changing events; the first event per subject wins."""
    by_loan: dict[int, tuple[str, str]] = {}
    by_customer: dict[int, tuple[str, str]] = {}
    flagged: dict[int, tuple[str, str]] = {}
    for ev in events:
        pk = _int(ev.object_id)
        if pk is None:
            continue
        meta = ev.metadata or {}
        if ev.action == REVERSAL and ev.object_type == "lending.loan":
            by_loan.setdefault(pk, (ev.key, ev.action))
        elif (
            ev.action == EXTERNAL_PULL
            and ev.object_type == "customers.customer"
            and meta.get("kind") in RISK_DATA_KINDS
            and meta.get("status", "ok") == "ok"
        ):
            by_customer.setdefault(pk, (ev.key, ev.action))
        elif (
            ev.action == RISK_FLAG
            and ev.object_type == "customers.customer"
            and _risk_flags_changed(ev)
        ):
            by_customer.setdefault(pk, (ev.key, ev.action))
            flagged.setdefault(pk, (ev.key, ev.action))
    return by_loan, by_customer, flagged


def handle(events: list[Event]) -> None:
    """Consumer: record the loans to re-check; never evaluates anything itself."""
    from credo.customers.models import Relation
    from credo.lending.models import Loan
    from credo.lending.states import LOAN_OPEN_STATES

    by_loan, by_customer, flagged = _subjects(events)
    if flagged:  # 关联方被执行: the related parties' loans change too
        pairs = Relation.objects.filter(
            Q(from_customer_id__in=list(flagged)) | Q(to_customer_id__in=list(flagged))
        ).values_list("from_customer_id", "to_customer_id")
        for a, b in pairs:
            if a in flagged:
                by_customer.setdefault(b, flagged[a])
            if b in flagged:
                by_customer.setdefault(a, flagged[b])
    rows: list[SameDayCheck] = []
    loans = Loan.objects.filter(
        Q(customer_id__in=list(by_customer)) | Q(pk__in=list(by_loan)),
        status__in=LOAN_OPEN_STATES,
    ).values_list("id", "customer_id")
    for loan_id, customer_id in loans if (by_customer or by_loan) else []:
        key, action = by_loan.get(loan_id) or by_customer[customer_id]
        rows.append(
            SameDayCheck(loan_id=loan_id, customer_id=customer_id, event_key=key, action=action)
        )
    if not rows:
        return
    SameDayCheck.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(enqueue_check)


def enqueue_check() -> None:
    from credo.monitoring.tasks import monitoring_sameday

    monitoring_sameday.enqueue()


def run_sameday(*, day: dt.date | None = None, limit: int = 5000) -> dict[str, int]:
    """Re-check the loans waiting in ``SameDayCheck`` as of ``day`` (today): indicators, rules
    and alerts for just those loans, the new alerts pushed. Rows are claimed ``SKIP LOCKED``
    so concurrent workers split them; a failure leaves them waiting for the next run."""
    from credo.monitoring.batch import run_monitoring

    day = day or clock.today()
    with transaction.atomic():
        claimed = list(
            SameDayCheck.objects.select_for_update(skip_locked=True)
            .filter(checked_at__isnull=True)
            .order_by("id")
            .values_list("id", "loan_id")[:limit]
        )
        if not claimed:
            return {}
        loan_ids = sorted({loan_id for _pk, loan_id in claimed})
        counts = run_monitoring(day, loan_ids=loan_ids, retention=False, source="sameday")
        summary = {
            k: v
            for k, v in counts.items()
            if k in ("loans", "hits", "alerts_created", "alerts_pushed")
        }
        SameDayCheck.objects.filter(pk__in=[pk for pk, _l in claimed]).update(
            checked_at=timezone.now(), result=summary
        )
    out = Counter(counts)
    out["sameday_checks"] = len(claimed)
    return dict(out)
