"""Risk indicators (E1), computed set-based for one business date.

Every figure is aggregated in the database (one GROUP BY per source table) and written back
with one upsert per chunk, so the nightly run is a handful of queries whatever the book size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from credo.core.money import fen_of
from credo.customers.models import Customer, DataKind, ExternalPull, Relation
from credo.lending.models import Installment, Loan, Posting, StatementLine
from credo.lending.states import LOAN_OPEN_STATES
from credo.monitoring.models import LoanIndicator

OPEN = LOAN_OPEN_STATES
PAID_OFF_WINDOW_DAYS = 30  # a loan paid off this recently still gets indicators (retention)
CHUNK = 2000
UPDATE_FIELDS = [
    f.name
    for f in LoanIndicator._meta.get_fields()
    if getattr(f, "concrete", False) and f.name not in ("loan",)
]


def external_days() -> int:
    return int(getattr(settings, "CREDO_MONITORING_EXTERNAL_DAYS", 30))


def base_loans(day: dt.date, loan_ids: Iterable[int] | None = None) -> Any:
    """Open loans plus loans paid off in the last 30 days (renewal invitations)."""
    recent = Installment.objects.filter(
        loan=OuterRef("pk"), paid_on__gte=day - dt.timedelta(days=PAID_OFF_WINDOW_DAYS)
    )
    qs = Loan.objects.filter(Q(status__in=OPEN) | (Q(status=Loan.Status.PAID_OFF) & Exists(recent)))
    if loan_ids is not None:
        qs = qs.filter(pk__in=list(loan_ids))
    return qs


def _pct_drop(before: int, now: int) -> int:
    """How far ``now`` fell below ``before``, in whole percent (0 when it did not fall)."""
    if before <= 0 or now >= before:
        return 0
    return min(100, (before - now) * 100 // before)


def compute(day: dt.date, loan_ids: Iterable[int] | None = None) -> int:
    """Compute and store the indicators of ``day`` for all (or the given) loans; returns the
    number of loans."""
    base = base_loans(day, loan_ids)
    loans = list(base.values_list("id", "customer_id", "dpd", "status", "start_date"))
    if not loans:
        return 0
    ids_q = base.values("id")
    d30 = day - dt.timedelta(days=30)
    y1 = day - dt.timedelta(days=365)
    on_time = Q(status=Installment.Status.PAID, paid_on__lte=F("due_date"))
    past = Q(due_date__lt=day)
    in_12m = Q(due_date__lt=day, due_date__gte=y1)
    inst: dict[int, dict[str, Any]] = {
        r["loan_id"]: dict(r)
        for r in Installment.objects.filter(loan_id__in=ids_q)
        .values("loan_id")
        .annotate(
            due_max=Max("period", filter=past),
            good_max=Max("period", filter=past & on_time),
            left=Count("id", filter=~Q(status__in=("paid", "written_off"))),
            # the oldest installment that was still unpaid 30 days ago → DPD then
            unpaid_30=Min(
                "due_date",
                filter=Q(due_date__lt=d30)
                & ~Q(status="written_off")
                & (Q(paid_on__isnull=True) | Q(paid_on__gt=d30)),
            ),
            last_paid_on=Max("paid_on"),
            due_12m=Count("id", filter=in_12m),
            ontime_12m=Count("id", filter=in_12m & on_time),
        )
    }
    last_amount = Posting.objects.filter(loan_id=OuterRef("loan_id"), reversed_at__isnull=True)
    pays = {
        r["loan_id"]: r
        for r in Posting.objects.filter(loan_id__in=ids_q, reversed_at__isnull=True)
        .values("loan_id")
        .annotate(
            n=Count("id"),
            total=Sum("amount"),
            last_on=Max("received_on"),
            last_amount=Subquery(last_amount.order_by("-received_on", "-id").values("amount")[:1]),
        )
    }
    customer_ids = {c for _i, c, *_rest in loans}
    flows = _inflows(day, customer_ids)
    cust = _customer_facts(day, customer_ids)

    rows = []
    for loan_id, customer_id, dpd, status, start in loans:
        i: dict[str, Any] = inst.get(loan_id, {})
        p = pays.get(loan_id)
        last_dates = [x for x in (i.get("last_paid_on"), p and p["last_on"]) if x]
        last_date = max(last_dates) if last_dates else start
        last_amount_fen = fen_of(p["last_amount"]) if p else 0
        avg_prev = (fen_of(p["total"]) - last_amount_fen) // (p["n"] - 1) if p and p["n"] > 1 else 0
        unpaid_30 = i.get("unpaid_30")
        due_12m = i.get("due_12m") or 0
        inflow_30, inflow_avg = flows.get(customer_id, (0, 0))
        c = cust.get(customer_id, {})
        rows.append(
            dict(
                loan_id=loan_id,
                customer_id=customer_id,
                as_of=day,
                open=status in OPEN,
                dpd=dpd,
                dpd_30d_ago=(d30 - unpaid_30).days if unpaid_30 else 0,
                days_since_payment=max(0, (day - last_date).days) if last_date else 0,
                partial_streak=(i.get("due_max") or 0) - (i.get("good_max") or 0),
                last_payment=last_amount_fen,
                avg_prev_payment=avg_prev,
                payment_drop_pct=_pct_drop(avg_prev, last_amount_fen),
                inflow_30d=inflow_30,
                inflow_avg_3m=inflow_avg,
                inflow_drop_pct=_pct_drop(inflow_avg, inflow_30),
                related_overdue=c.get("related_overdue", False),
                related_judgment_debtor=c.get("related_judgment_debtor", False),
                judgment_debtor=c.get("judgment_debtor", False),
                new_litigation=c.get("new_litigation", False),
                negative_news=c.get("negative_news", False),
                installments_left=i.get("left") or 0,
                paid_off=status == Loan.Status.PAID_OFF,
                late_12m=due_12m - (i.get("ontime_12m") or 0),
                on_time_pct=(i.get("ontime_12m") or 0) * 100 // due_12m if due_12m else 0,
            )
        )
    _write(rows)
    if loan_ids is None:  # loans that left the book (paid off long ago, written off)
        LoanIndicator.objects.filter(as_of__lt=day).delete()
    return len(rows)


COLUMNS = [f.attname for f in LoanIndicator._meta.concrete_fields]


def _write(rows: list[dict[str, Any]]) -> None:
    """Upsert the rows. PostgreSQL: COPY into a temporary table and one INSERT … ON CONFLICT
    (the ORM's per-value preparation dominated the run); elsewhere: bulk_create upserts."""
    if connection.vendor != "postgresql":
        for start in range(0, len(rows), CHUNK):
            LoanIndicator.objects.bulk_create(
                [LoanIndicator(**r) for r in rows[start : start + CHUNK]],
                update_conflicts=True,
                unique_fields=["loan"],
                update_fields=UPDATE_FIELDS,
            )
        return
    table = LoanIndicator._meta.db_table
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in COLUMNS if c != "loan_id")
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS _monitoring_ind (LIKE {table}) ON COMMIT DROP"
        )
        # inside an outer transaction the table survives from an earlier call: empty it
        cur.execute("TRUNCATE _monitoring_ind")
        with cur.cursor.copy(f"COPY _monitoring_ind ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row([r[c] for c in COLUMNS])
        cur.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _monitoring_ind "  # noqa: S608 — fixed names
            f'ON CONFLICT ("loan_id") DO UPDATE SET {updates}'
        )


def _inflows(day: dt.date, customer_ids: set[int]) -> dict[int, tuple[int, int]]:
    """Credits on imported statement lines matched to the customer's loans: last 30 days vs
    the monthly average of the 90 days before. Statements are credit-only (repayments
    received), so outflows cannot be measured from them."""
    d30 = day - dt.timedelta(days=30)
    d120 = day - dt.timedelta(days=120)
    out: dict[int, tuple[int, int]] = {}
    qs = (
        StatementLine.objects.filter(
            txn_date__gt=d120, txn_date__lte=day, loan__isnull=False, amount__gt=0
        )
        .exclude(status=StatementLine.Status.IGNORED)
        .values("loan__customer_id")
        .annotate(
            last30=Sum("amount", filter=Q(txn_date__gt=d30)),
            prev=Sum("amount", filter=Q(txn_date__lte=d30)),
        )
    )
    for r in qs:
        cid = r["loan__customer_id"]
        if cid in customer_ids:
            out[cid] = (fen_of(r["last30"]), fen_of(r["prev"]) // 3)
    return out


def _customer_facts(day: dt.date, customer_ids: set[int]) -> dict[int, dict[str, bool]]:
    facts: dict[int, dict[str, bool]] = defaultdict(dict)
    overdue = set(
        Loan.objects.filter(Q(status=Loan.Status.OVERDUE) | Q(dpd__gt=0, status__in=OPEN))
        .values_list("customer_id", flat=True)
        .distinct()
    )
    related: dict[int, set[int]] = defaultdict(set)
    for a, b in Relation.objects.values_list("from_customer_id", "to_customer_id"):
        related[a].add(b)
        related[b].add(a)
    flag_ids = customer_ids | {r for c in customer_ids for r in related.get(c, ())}
    debtors = {
        cid
        for cid, flags in Customer.objects.filter(pk__in=list(flag_ids))
        .exclude(risk_flags=[])
        .values_list("id", "risk_flags")
        if "judgment_debtor" in (flags or [])
    }
    since = timezone.make_aware(
        dt.datetime.combine(day - dt.timedelta(days=external_days()), dt.time.min)
    )
    pulls = ExternalPull.objects.filter(
        status=ExternalPull.Status.OK,
        kind__in=(DataKind.LITIGATION, DataKind.NEWS),
        requested_at__gte=since,
        requested_at__lt=since + dt.timedelta(days=external_days() + 1),
    ).values_list("customer_id", "kind", "parsed")
    for cid, kind, parsed in pulls:
        parsed = parsed or {}
        if kind == DataKind.LITIGATION and (
            parsed.get("litigation_count") or parsed.get("serious_litigation")
        ):
            facts[cid]["new_litigation"] = True
        if kind == DataKind.NEWS and parsed.get("negative_count"):
            facts[cid]["negative_news"] = True
        if kind == DataKind.LITIGATION and parsed.get("judgment_debtor"):
            debtors.add(cid)
    for cid in customer_ids:
        rel = related.get(cid, set())
        f = facts[cid]
        f["judgment_debtor"] = cid in debtors
        f["related_overdue"] = bool(rel & overdue)
        f["related_judgment_debtor"] = bool(rel & debtors)
    return facts
