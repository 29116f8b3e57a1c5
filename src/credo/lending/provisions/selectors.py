"""Reads of the provisions: the rates in force, month-end balances per product × class (set-based),
the reserve's GL balance per product, runs and the report."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Sum

from credo.lending.ledger import account_id, fen
from credo.lending.models import JournalLine, Loan, LoanClassHistory, Product
from credo.lending.provisions.models import (
    CLASSES,
    ProvisionLine,
    ProvisionPosting,
    ProvisionRates,
    ProvisionRun,
)

CHUNK = 5000
HUNDRED = Decimal(100)


def current_rates() -> ProvisionRates:
    """The rates in force: the latest version, or the defaults (unsaved, version 0)."""
    return ProvisionRates.objects.order_by("-version").first() or ProvisionRates(version=0)


def share(balance: int, pct: Decimal) -> int:
    """``pct`` % of ``balance`` fen, to the fen, half-up (the one rounding of the run)."""
    return int((Decimal(balance) * Decimal(pct) / HUNDRED).quantize(Decimal(1), ROUND_HALF_UP))


def month_end_balances(month_end: dt.date) -> dict[tuple[int, str], list[int]]:
    """``{(product_id, class): [loans, principal fen]}`` at the end of ``month_end``.

    One grouped query over the loans' current balances and classes, corrected by what happened
    after ``month_end`` — principal movements posted after it (the journal's principal lines,
    grouped per loan) and reclassifications after it (the first later
    :class:`LoanClassHistory` row's ``from_class``). The correction touches only loans moved
    since the month end, so a run a few days after the month costs about a plain GROUP BY.

    On PostgreSQL it is one statement, so the loans, the journal and the class history are read
    in one snapshot while repayments go on (separate statements under READ COMMITTED could see
    a repayment in one read and not in the other); elsewhere (SQLite: one writer, and the run
    holds the write lock) the same computation in Python."""
    if connection.vendor == "postgresql":
        return _month_end_balances_sql(month_end)
    return _month_end_balances_python(month_end)


def _month_end_balances_sql(month_end: dt.date) -> dict[tuple[int, str], list[int]]:
    loan = Loan._meta.db_table
    version = Loan._meta.get_field("product_version").related_model._meta.db_table  # type: ignore[union-attr]
    line = JournalLine._meta.db_table
    entry = JournalLine._meta.get_field("entry").related_model._meta.db_table  # type: ignore[union-attr]
    history = LoanClassHistory._meta.db_table
    # table names are the models' own; values are bound parameters
    sql = f"""
        WITH moved AS (
            SELECT jl.loan_id, SUM(jl.debit - jl.credit) AS m
            FROM {line} jl JOIN {entry} je ON je.id = jl.entry_id
            WHERE jl.account_id = %(principal)s AND je.business_date > %(end)s
                AND jl.loan_id IS NOT NULL
            GROUP BY jl.loan_id
        ), reclass AS (
            SELECT DISTINCT ON (loan_id) loan_id, from_class
            FROM {history} WHERE date > %(end)s ORDER BY loan_id, date, id
        ), touched AS (
            SELECT loan_id FROM moved UNION SELECT loan_id FROM reclass
        ), adj AS (
            SELECT pv.product_id, l.classification AS cls, l.outstanding_principal AS now,
                l.outstanding_principal - COALESCE(m.m, 0) AS was,
                COALESCE(r.from_class, l.classification) AS was_cls
            FROM touched t JOIN {loan} l ON l.id = t.loan_id
            JOIN {version} pv ON pv.id = l.product_version_id
            LEFT JOIN moved m ON m.loan_id = l.id LEFT JOIN reclass r ON r.loan_id = l.id
        )
        SELECT product_id, cls, SUM(n), SUM(s) FROM (
            SELECT pv.product_id, l.classification AS cls, COUNT(*) AS n,
                SUM(l.outstanding_principal) AS s
            FROM {loan} l JOIN {version} pv ON pv.id = l.product_version_id
            WHERE l.outstanding_principal > 0 GROUP BY 1, 2
            UNION ALL SELECT product_id, cls, -1, -now FROM adj WHERE now > 0
            UNION ALL SELECT product_id, was_cls, 1, was FROM adj WHERE was > 0
        ) x GROUP BY 1, 2
    """  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, {"principal": account_id("loan_principal"), "end": month_end})
        rows = cur.fetchall()
    return {(p, c): [int(n), int(s)] for p, c, n, s in rows if n or s}


def _month_end_balances_python(month_end: dt.date) -> dict[tuple[int, str], list[int]]:
    out: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in (
        Loan.objects.filter(outstanding_principal__gt=0)
        .values("product_version__product_id", "classification")
        .annotate(n=Count("id"), s=Sum("outstanding_principal"))
        .order_by()
    ):
        cell = out[(row["product_version__product_id"], row["classification"])]
        cell[0] += row["n"]
        cell[1] += fen(row["s"])
    moved: dict[int, int] = {}
    for tail in (
        JournalLine.objects.filter(
            account_id=account_id("loan_principal"), entry__business_date__gt=month_end
        )
        .values("loan_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    ):
        if tail["loan_id"] is not None:
            moved[tail["loan_id"]] = fen(tail["d"]) - fen(tail["c"])
    reclass: dict[int, str] = {}
    for loan_id, from_class in (
        LoanClassHistory.objects.filter(date__gt=month_end)
        .order_by("loan_id", "date", "id")
        .values_list("loan_id", "from_class")
    ):
        reclass.setdefault(loan_id, from_class)
    affected = sorted(set(moved) | set(reclass))
    for start in range(0, len(affected), CHUNK):
        for pk, product_id, cls, outstanding in Loan.objects.filter(
            pk__in=affected[start : start + CHUNK]
        ).values_list(
            "pk", "product_version__product_id", "classification", "outstanding_principal"
        ):
            now = fen(outstanding)
            if now > 0:
                cell = out[(product_id, cls)]
                cell[0] -= 1
                cell[1] -= now
            then = now - moved.get(pk, 0)
            if then > 0:
                cell = out[(product_id, reclass.get(pk, cls))]
                cell[0] += 1
                cell[1] += then
    return {k: v for k, v in out.items() if v[0] or v[1]}


def reserve_balances(
    *, upto: dt.date | None = None, last_entry_id: int | None = None, kinds: Any = None
) -> dict[int, int]:
    """The 贷款损失准备 balance per product (credit − debit, fen; positive = a reserve), of the
    entries dated on or before ``upto`` (all when None), optionally only up to the entry id
    ``last_entry_id`` or of the entry ``kinds``. A line's product is its entry's product
    (portfolio entries, and every write-off/recovery since provisions exist) or its loan's."""
    qs = JournalLine.objects.filter(account_id=account_id("loan_loss_reserve"))
    if upto is not None:
        qs = qs.filter(entry__business_date__lte=upto)
    if last_entry_id is not None:
        qs = qs.filter(entry_id__lte=last_entry_id)
    if kinds is not None:
        qs = qs.filter(entry__kind__in=list(kinds))
    out: dict[int, int] = defaultdict(int)
    for row in (
        qs.values("entry__product_id", "loan__product_version__product_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    ):
        product = row["entry__product_id"] or row["loan__product_version__product_id"]
        out[product] += fen(row["c"]) - fen(row["d"])
    return dict(out)


def latest_run(month: dt.date | None = None) -> ProvisionRun | None:
    qs = ProvisionRun.objects.all()
    if month is not None:
        qs = qs.filter(month=month)
    return qs.order_by("-month", "-sequence").first()


# ------------------------------------------------------------------------------- the report


@dataclass
class ReportRow:
    product: str
    classification: str
    label: str
    loans: int = 0
    balance: int = 0
    general_pct: Decimal = Decimal(0)
    specific_pct: Decimal = Decimal(0)
    general: int = 0
    specific: int = 0
    required: int = 0


@dataclass
class ProductRow:
    product: str
    balance: int = 0
    required: int = 0
    previous: int = 0
    amount: int = 0
    gl_now: int = 0


@dataclass
class ProvisionReport:
    run: ProvisionRun | None
    rows: list[ReportRow] = field(default_factory=list)
    by_class: list[ReportRow] = field(default_factory=list)
    products: list[ProductRow] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(r, attr) for r in self.by_class)

    @property
    def totals(self) -> dict[str, int]:
        return {a: self.total(a) for a in ("loans", "balance", "general", "specific", "required")}

    @property
    def product_totals(self) -> dict[str, int]:
        return {
            a: sum(getattr(p, a) for p in self.products)
            for a in ("balance", "required", "previous", "amount", "gl_now")
        }


def class_label(code: str) -> str:
    return str(dict(Loan.Classification.choices).get(code, code))


def provision_report(run: ProvisionRun | None) -> ProvisionReport:
    """A run's lines by product × class, the totals by class and, per product, the reserve
    before the run, the difference posted and the reserve's GL balance today."""
    report = ProvisionReport(run=run)
    if run is None:
        return report
    names = dict(Product.objects.values_list("pk", "name"))
    order = {c: i for i, c in enumerate(CLASSES)}
    lines = sorted(
        ProvisionLine.objects.filter(run=run),
        key=lambda ln: (names.get(ln.product_id, ""), order.get(ln.classification, 9)),
    )
    per_class: dict[str, ReportRow] = {}
    per_product: dict[int, ProductRow] = {}
    for ln in lines:
        row = ReportRow(
            product=names.get(ln.product_id, str(ln.product_id)),
            classification=ln.classification,
            label=class_label(ln.classification),
            loans=ln.loans,
            balance=ln.balance.fen,
            general_pct=ln.general_pct,
            specific_pct=ln.specific_pct,
            general=ln.general.fen,
            specific=ln.specific.fen,
            required=ln.required.fen,
        )
        report.rows.append(row)
        agg = per_class.setdefault(
            ln.classification,
            ReportRow(
                product="",
                classification=ln.classification,
                label=row.label,
                general_pct=ln.general_pct,
                specific_pct=ln.specific_pct,
            ),
        )
        for attr in ("loans", "balance", "general", "specific", "required"):
            setattr(agg, attr, getattr(agg, attr) + getattr(row, attr))
        prod = per_product.setdefault(ln.product_id, ProductRow(product=row.product))
        prod.balance += row.balance
    report.by_class = [per_class[c] for c in CLASSES if c in per_class]
    gl = reserve_balances()
    for posting in ProvisionPosting.objects.filter(run=run):
        prod = per_product.setdefault(
            posting.product_id,
            ProductRow(product=names.get(posting.product_id, str(posting.product_id))),
        )
        prod.required = posting.required.fen
        prod.previous = posting.previous
        prod.amount = posting.amount
        prod.gl_now = gl.get(posting.product_id, 0)
    report.products = sorted(per_product.values(), key=lambda p: p.product)
    return report
