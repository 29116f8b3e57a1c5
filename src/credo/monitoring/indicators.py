"""Risk indicators (E1), computed set-based for one business date.

Every figure is aggregated in the database (one GROUP BY per source table). On PostgreSQL the
whole computation is one ``INSERT … SELECT … ON CONFLICT`` statement (``_compute_sql``); the
portable path (``_compute_python``) combines the same aggregates in Python and upserts them.
Both give the same rows (tested), so the nightly run is a handful of queries whatever the book
size. Recomputed in full each day: several indicators move with the date itself.
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
    if connection.vendor == "postgresql":
        n = _compute_sql(day, None if loan_ids is None else list(loan_ids))
    else:
        n = _compute_python(day, loan_ids)
    if loan_ids is None:  # loans that left the book (paid off long ago, written off)
        LoanIndicator.objects.filter(as_of__lt=day).delete()
    return n


def _compute_python(day: dt.date, loan_ids: Iterable[int] | None = None) -> int:
    """The portable path (SQLite): the same aggregates through the ORM, combined per loan in
    Python and upserted. :func:`_compute_sql` must give the same rows."""
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
    return len(rows)


COLUMNS = [f.attname for f in LoanIndicator._meta.concrete_fields]


def _pct_drop_sql(before: str, now: str) -> str:
    """:func:`_pct_drop` as a SQL expression (both operands bigint; positive when used)."""
    return (
        f"CASE WHEN {before} <= 0 OR {now} >= {before} THEN 0 "
        f"ELSE LEAST(100, ({before} - {now}) * 100 / {before}) END"
    )


# The computation on PostgreSQL: two statements. The installments of the base loans (open,
# or paid off recently: their ids come in as an array) are aggregated per loan into a
# temporary table with CREATE TABLE AS, which PostgreSQL may run as a parallel query (a
# data-modifying statement never is: inside the upsert the same aggregate took ≈ 1.2 s of its
# 2.3 s at 100,000 loans, ≈ 0.7 s in parallel on two cores); then one INSERT … SELECT … ON
# CONFLICT joins it with the postings aggregate and the customer-level facts passed in as
# arrays (sparse: only customers with a flag or an inflow) and upserts every loan's row. The
# expressions mirror _compute_python line by line.
_INST_SQL = """
CREATE TEMPORARY TABLE _monitoring_inst ON COMMIT DROP AS
    SELECT i.loan_id,
           max(i.period) FILTER (WHERE i.due_date < %(day)s) AS due_max,
           max(i.period) FILTER (WHERE i.due_date < %(day)s AND i.status = 'paid'
                                   AND i.paid_on <= i.due_date) AS good_max,
           count(*) FILTER (WHERE i.status NOT IN ('paid', 'written_off')) AS left_n,
           min(i.due_date) FILTER (WHERE i.due_date < %(d30)s AND i.status <> 'written_off'
                                     AND (i.paid_on IS NULL OR i.paid_on > %(d30)s)) AS unpaid_30,
           max(i.paid_on) AS last_paid_on,
           count(*) FILTER (WHERE i.due_date < %(day)s AND i.due_date >= %(y1)s) AS due_12m,
           count(*) FILTER (WHERE i.due_date < %(day)s AND i.due_date >= %(y1)s
                              AND i.status = 'paid' AND i.paid_on <= i.due_date) AS ontime_12m
      FROM lending_installment i JOIN lending_loan l ON l.id = i.loan_id
     WHERE (l.status = ANY(%(open)s) OR l.id = ANY(%(recent_ids)s::bigint[])) {ids_filter}
     GROUP BY i.loan_id
"""
_SQL = """
WITH base AS MATERIALIZED (
    SELECT l.id, l.customer_id, l.dpd, l.status, l.start_date
      FROM lending_loan l
     WHERE (l.status = ANY(%(open)s) OR l.id = ANY(%(recent_ids)s::bigint[])) {ids_filter}
), pays AS (
    SELECT p.loan_id, count(*) AS n, sum(p.amount) AS total, max(p.received_on) AS last_on,
           (array_agg(p.amount ORDER BY p.received_on DESC, p.id DESC))[1] AS last_amount
      FROM lending_posting p JOIN base b ON b.id = p.loan_id
     WHERE p.reversed_at IS NULL
     GROUP BY p.loan_id
), cf AS (
    SELECT * FROM unnest(%(c_id)s::bigint[], %(c_in30)s::bigint[], %(c_avg)s::bigint[],
                         %(c_ro)s::boolean[], %(c_rjd)s::boolean[], %(c_jd)s::boolean[],
                         %(c_lit)s::boolean[], %(c_news)s::boolean[])
        AS cf(customer_id, inflow_30, inflow_avg, related_overdue, related_judgment_debtor,
              judgment_debtor, new_litigation, negative_news)
), v AS (
    SELECT b.id AS loan_id, b.customer_id, b.dpd, b.status,
           COALESCE(GREATEST(i.last_paid_on, p.last_on), b.start_date) AS last_date,
           COALESCE(p.last_amount, 0)::bigint AS last_amount,
           CASE WHEN p.n > 1 THEN floor((p.total - p.last_amount)::numeric / (p.n - 1))
                ELSE 0 END::bigint AS avg_prev,
           i.unpaid_30, COALESCE(i.due_max, 0) - COALESCE(i.good_max, 0) AS streak,
           COALESCE(i.left_n, 0) AS left_n, COALESCE(i.due_12m, 0) AS due_12m,
           COALESCE(i.ontime_12m, 0) AS ontime_12m,
           COALESCE(cf.inflow_30, 0) AS inflow_30, COALESCE(cf.inflow_avg, 0) AS inflow_avg,
           COALESCE(cf.related_overdue, false) AS related_overdue,
           COALESCE(cf.related_judgment_debtor, false) AS related_judgment_debtor,
           COALESCE(cf.judgment_debtor, false) AS judgment_debtor,
           COALESCE(cf.new_litigation, false) AS new_litigation,
           COALESCE(cf.negative_news, false) AS negative_news
      FROM base b
      LEFT JOIN _monitoring_inst i ON i.loan_id = b.id
      LEFT JOIN pays p ON p.loan_id = b.id
      LEFT JOIN cf ON cf.customer_id = b.customer_id
)
INSERT INTO monitoring_loanindicator ({cols})
SELECT loan_id, customer_id, %(day)s, status = ANY(%(open)s), dpd,
       CASE WHEN unpaid_30 IS NULL THEN 0 ELSE %(d30)s::date - unpaid_30 END,
       CASE WHEN last_date IS NULL THEN 0 ELSE GREATEST(0, %(day)s::date - last_date) END,
       streak, last_amount, avg_prev, {payment_drop}, inflow_30, inflow_avg, {inflow_drop},
       related_overdue, related_judgment_debtor, judgment_debtor, new_litigation, negative_news,
       left_n, status = 'paid_off', due_12m - ontime_12m,
       CASE WHEN due_12m > 0 THEN ontime_12m * 100 / due_12m ELSE 0 END
  FROM v
ON CONFLICT (loan_id) DO UPDATE SET {updates}
"""
SQL_COLUMNS = (
    "loan_id",
    "customer_id",
    "as_of",
    "open",
    "dpd",
    "dpd_30d_ago",
    "days_since_payment",
    "partial_streak",
    "last_payment",
    "avg_prev_payment",
    "payment_drop_pct",
    "inflow_30d",
    "inflow_avg_3m",
    "inflow_drop_pct",
    "related_overdue",
    "related_judgment_debtor",
    "judgment_debtor",
    "new_litigation",
    "negative_news",
    "installments_left",
    "paid_off",
    "late_12m",
    "on_time_pct",
)
FACT_KEYS = (
    "related_overdue",
    "related_judgment_debtor",
    "judgment_debtor",
    "new_litigation",
    "negative_news",
)


def _compute_sql(day: dt.date, loan_ids: list[int] | None) -> int:
    """PostgreSQL: the installment aggregate into a temporary table (a parallel query), then
    every indicator in one ``INSERT … SELECT … ON CONFLICT`` (no row crosses into Python but
    the customer-level facts, which are per customer and sparse)."""
    if loan_ids is not None and not loan_ids:
        return 0
    recent_ids = list(
        base_loans(day, loan_ids).filter(status=Loan.Status.PAID_OFF).values_list("id", flat=True)
    )
    # the nightly run: the facts of every customer that has one (a customer without a base
    # loan joins nothing); a run for some loans (same-day checks): of their customers only
    customers = (
        None
        if loan_ids is None
        else set(Loan.objects.filter(pk__in=loan_ids).values_list("customer_id", flat=True))
    )
    flows = _inflows(day, customers)
    cust = _customer_facts(day, customers)
    sparse = sorted(
        cid
        for cid in set(flows) | set(cust)
        if cid in flows or any(cust.get(cid, {}).get(k) for k in FACT_KEYS)
    )
    params: dict[str, Any] = {
        "day": day,
        "d30": day - dt.timedelta(days=30),
        "y1": day - dt.timedelta(days=365),
        "open": list(OPEN),
        "recent_ids": recent_ids,
        "ids": loan_ids,
        "c_id": sparse,
        "c_in30": [flows.get(c, (0, 0))[0] for c in sparse],
        "c_avg": [flows.get(c, (0, 0))[1] for c in sparse],
        "c_ro": [bool(cust.get(c, {}).get("related_overdue")) for c in sparse],
        "c_rjd": [bool(cust.get(c, {}).get("related_judgment_debtor")) for c in sparse],
        "c_jd": [bool(cust.get(c, {}).get("judgment_debtor")) for c in sparse],
        "c_lit": [bool(cust.get(c, {}).get("new_litigation")) for c in sparse],
        "c_news": [bool(cust.get(c, {}).get("negative_news")) for c in sparse],
    }
    ids_filter = "AND l.id = ANY(%(ids)s::bigint[])" if loan_ids is not None else ""
    sql = _SQL.format(
        ids_filter=ids_filter,
        cols=", ".join(f'"{c}"' for c in SQL_COLUMNS),
        updates=", ".join(f'"{c}" = EXCLUDED."{c}"' for c in SQL_COLUMNS if c != "loan_id"),
        payment_drop=_pct_drop_sql("avg_prev", "last_amount"),
        inflow_drop=_pct_drop_sql("inflow_avg", "inflow_30"),
    )
    with transaction.atomic(), connection.cursor() as cur:
        # JIT-compiling this one statement's ~80 expressions costs more (≈0.7 s) than it saves
        cur.execute("SET LOCAL jit = off")
        cur.execute(_INST_SQL.format(ids_filter=ids_filter), params)
        cur.execute(sql, params)
        count = int(cur.rowcount)
        cur.execute("DROP TABLE _monitoring_inst")
        return count


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


def _inflows(day: dt.date, customer_ids: set[int] | None) -> dict[int, tuple[int, int]]:
    """Credits on imported statement lines matched to the customer's loans: last 30 days vs
    the monthly average of the 90 days before (of ``customer_ids``; None: every customer
    with such lines). Statements are credit-only (repayments received), so outflows cannot
    be measured from them."""
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
        if customer_ids is None or cid in customer_ids:
            out[cid] = (fen_of(r["last30"]), fen_of(r["prev"]) // 3)
    return out


def _customer_facts(day: dt.date, customer_ids: set[int] | None) -> dict[int, dict[str, bool]]:
    """The customer-level flags of ``customer_ids`` (None: of every customer that can have
    one — a party to a relation, a judgment debtor, a recent litigation/news pull)."""
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
    flagged = Customer.objects.exclude(risk_flags=[])
    if customer_ids is not None:
        flag_ids = customer_ids | {r for c in customer_ids for r in related.get(c, ())}
        flagged = flagged.filter(pk__in=list(flag_ids))
    debtors = {
        cid
        for cid, flags in flagged.values_list("id", "risk_flags")
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
    for cid in customer_ids if customer_ids is not None else set(related) | debtors | set(facts):
        rel = related.get(cid, set())
        f = facts[cid]
        f["judgment_debtor"] = cid in debtors
        f["related_overdue"] = bool(rel & overdue)
        f["related_judgment_debtor"] = bool(rel & debtors)
    return facts
