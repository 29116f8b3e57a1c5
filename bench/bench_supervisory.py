"""Monthly supervisory report (监管报表) benchmark, PostgreSQL only (issue 22).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_supbench \\
        .venv/bin/python -m bench.bench_supervisory --loans 1000000

Generates, in SQL (``INSERT … SELECT generate_series``): customers (one per five loans; 企业,
个体工商户, 农户 and other individuals; every industry section; Shanxi cities, another province
and none), N loans (terms 6–48 months, rates 4–24 %, disbursed from 2024-01 to the report
month; 2 % paid off, 5 % overdue), their ledger (one disbursement entry per loan, a repayment
entry for a third of them and for every paid-off loan), a 五级分类 history for the overdue
loans, the close of business's month-end snapshot, collateral for 10 % and guarantees for 10 %,
and a 贷款损失准备 balance. Then it times, for the month 2026-05:

* **the report from the summaries** — load the frozen month, build the fixed layout, write the
  Excel (the page and the scheduled delivery do exactly this); target < 5 s; the PDF once;
* **the summary computation** — ``supervisory.freeze`` (compute as of the month end + store);
* two **floors** in the same run: one plain ``GROUP BY`` of the loan table by class (current
  columns: what a report that is neither as-of nor frozen would cost), and the one ``GROUP BY``
  of the ledger that any as-of balance needs (principal per loan at the month end).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time

from bench.bench_customers import _setup_env

MONTH = dt.date(2026, 5, 1)
MONTH_END = dt.date(2026, 5, 31)

_DEFAULTS = {
    "character varying": "''",
    "text": "''",
    "integer": "0",
    "bigint": "0",
    "smallint": "0",
    "numeric": "0",
    "boolean": "false",
    "jsonb": "'{}'::jsonb",
    "date": "'2026-01-01'",
    "timestamp with time zone": "now()",
    "double precision": "0",
}


def _insert(cur, table: str, columns: dict[str, str], source: str, params: dict) -> None:
    """INSERT … SELECT with ``columns`` (column → SQL expression); any other NOT NULL column
    without a default gets a neutral value of its type, so the generator survives new columns."""
    cur.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL""",
        [table],
    )
    cols = dict(columns)
    for name, dtype in cur.fetchall():
        if name not in cols and name != "id":
            cols[name] = _DEFAULTS.get(dtype, "''")
    names = ", ".join(cols)
    exprs = ", ".join(cols.values())
    cur.execute(f"INSERT INTO {table} ({names}) SELECT {exprs} {source}", params)  # noqa: S608


def _generate(n: int) -> dict[str, int]:
    from django.db import connection

    from credo.accounts.models import OrgUnit, User
    from credo.lending import ledger
    from credo.lending.models import Product, ProductVersion

    hq = OrgUnit.objects.create(code="s-hq", name="总部", kind="head_office")
    owner = User.objects.create(username="sup-am", display_name="经理", org_unit=hq)
    product = Product.objects.create(code="bench", name="经营贷")
    pv = ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=100000,
        max_amount=10**10,
        min_months=3,
        max_months=60,
        min_rate=4,
        max_rate=24,
        method="equal_principal",
        allocation_order=["penalty", "fee", "interest", "principal"],
    )
    ids = ledger.account_ids(["loan_principal", "cash", "loan_loss_reserve", "impairment_loss"])
    customers = max(1, n // 5)
    p = {
        "n": n,
        "c": customers,
        "owner": owner.pk,
        "pv": pv.pk,
        "product": product.pk,
        "principal_acc": ids["loan_principal"],
        "cash_acc": ids["cash"],
        "reserve_acc": ids["loan_loss_reserve"],
        "impair_acc": ids["impairment_loss"],
        "month_end": MONTH_END,
    }
    t0 = t = time.perf_counter()

    def step(label: str) -> None:
        nonlocal t
        print(f"  {label} in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()

    with connection.cursor() as cur:
        _insert(
            cur,
            "customers_customer",
            {
                "kind": "CASE WHEN i %% 5 IN (0, 3) THEN 'enterprise' ELSE 'individual' END",
                "name": "'客户' || i",
                "uscc": "CASE WHEN i %% 5 = 1 THEN '92140100MA' || lpad(i::text, 8, '0') ELSE '' END",
                "industry": "substr('ABCDEFGHIJKLMNOPQRST ', 1 + i %% 21, 1)",
                "region_code": "(ARRAY['140105','140213','140302','140403','140502','140602',"
                "'140702','140802','140902','141002','141102','110105',''])[1 + i %% 13]",
                "status": "'active'",
                "risk_flags": "'[]'::jsonb",
                "custom": "'{}'::jsonb",
                "created_at": "now()",
                "updated_at": "now()",
                "version": "1",
                "owner_id": "%(owner)s",
            },
            "FROM generate_series(0, %(c)s - 1) AS i",
            p,
        )
        cur.execute("UPDATE customers_customer SET industry = '' WHERE industry = ' '")
        cur.execute("SELECT min(id) FROM customers_customer")
        p["first"] = cur.fetchone()[0]
        step(f"{customers:,} customers")
        _insert(
            cur,
            "lending_loan",
            {
                "number": "'S' || lpad(i::text, 9, '0')",
                "customer_id": "%(first)s + (i::bigint * 7919) %% %(c)s",
                "product_version_id": "%(pv)s",
                "principal": "(1 + i %% 100) * 1000000",
                "annual_rate": "(ARRAY[4, 6, 8, 10, 12, 15, 18, 20, 24])[1 + i %% 9]",
                "months": "(ARRAY[6, 12, 24, 36, 48])[1 + i %% 5]",
                "method": "'equal_principal'",
                "penalty_multiplier": "1.5",
                "penalty_days_in_year": "360",
                "allocation_order": '\'["penalty","fee","interest","principal"]\'::jsonb',
                "status": "CASE WHEN i %% 50 = 0 THEN 'paid_off' WHEN i %% 20 = 1 THEN 'overdue' "
                "ELSE 'active' END",
                "classification": "CASE WHEN i %% 100 = 1 THEN 'doubtful' "
                "WHEN i %% 20 = 1 THEN 'substandard' ELSE 'normal' END",
                "dpd": "CASE WHEN i %% 20 = 1 THEN 45 ELSE 0 END",
                "start_date": "DATE '2024-01-01' + (i %% 880)",
                "maturity_date": "DATE '2028-01-01'",
                "outstanding_principal": "CASE WHEN i %% 50 = 0 THEN 0 "
                "WHEN i %% 3 = 0 AND i %% 880 < 850 THEN (1 + i %% 100) * 600000 "
                "ELSE (1 + i %% 100) * 1000000 END",
                "owner_id": "%(owner)s",
                "created_by_id": "%(owner)s",
                "created_at": "now()",
                "version": "1",
                "compound_interest": "true",
                "penalty_from": "'due_date'",
                "rate_type": "'fixed'",
                "lpr_tenor": "'1y'",
                "repricing": "'annual_jan1'",
                "holiday_rule": "'defer_penalty'",
            },
            "FROM generate_series(1, %(n)s) AS i",
            p,
        )
        step(f"{n:,} loans")
        # the ledger: one disbursement per loan; a repayment 30 days later for a third of the
        # loans (40 % of the principal) and for every paid-off loan (all of it)
        _insert(
            cur,
            "lending_journalentry",
            {
                "kind": "'disbursement'",
                "loan_id": "l.id",
                "business_date": "l.start_date",
                "memo": "''",
                "created_at": "now()",
            },
            "FROM lending_loan l",
            p,
        )
        _insert(
            cur,
            "lending_journalentry",
            {
                "kind": "'repayment'",
                "loan_id": "l.id",
                "business_date": "l.start_date + 30",
                "memo": "''",
                "created_at": "now()",
            },
            "FROM lending_loan l WHERE l.status = 'paid_off' OR "
            "(l.outstanding_principal < l.principal)",
            p,
        )
        step("journal entries")
        _insert(
            cur,
            "lending_journalline",
            {
                "entry_id": "e.id",
                "account_id": "a.acc",
                "loan_id": "e.loan_id",
                "debit": "CASE WHEN a.side = 'd' THEN "
                "(CASE WHEN e.kind = 'disbursement' THEN l.principal "
                "WHEN l.status = 'paid_off' THEN l.principal "
                "ELSE l.principal - l.outstanding_principal END) ELSE 0 END",
                "credit": "CASE WHEN a.side = 'c' THEN "
                "(CASE WHEN e.kind = 'disbursement' THEN l.principal "
                "WHEN l.status = 'paid_off' THEN l.principal "
                "ELSE l.principal - l.outstanding_principal END) ELSE 0 END",
            },
            "FROM lending_journalentry e JOIN lending_loan l ON l.id = e.loan_id "
            "CROSS JOIN LATERAL (VALUES "
            "(CASE WHEN e.kind = 'disbursement' THEN %(principal_acc)s ELSE %(cash_acc)s END, 'd'),"
            "(CASE WHEN e.kind = 'disbursement' THEN %(cash_acc)s ELSE %(principal_acc)s END, 'c')"
            ") AS a (acc, side)",
            p,
        )
        step("journal lines")
        cur.execute(
            """INSERT INTO lending_journalentry (kind, product_id, business_date, memo, created_at)
               VALUES ('provision', %(product)s, %(month_end)s, '计提', now()) RETURNING id""",
            p,
        )
        p["prov"] = cur.fetchone()[0]
        cur.execute(
            """INSERT INTO lending_journalline (entry_id, account_id, debit, credit)
               SELECT %(prov)s, %(impair_acc)s, sum(outstanding_principal) / 2, 0
               FROM lending_loan WHERE classification IN ('substandard', 'doubtful', 'loss')
               UNION ALL
               SELECT %(prov)s, %(reserve_acc)s, 0, sum(outstanding_principal) / 2
               FROM lending_loan WHERE classification IN ('substandard', 'doubtful', 'loss')""",
            p,
        )
        _insert(
            cur,
            "lending_loanclasshistory",
            {
                "loan_id": "id",
                "date": "start_date + 60",
                "from_class": "'normal'",
                "to_class": "'substandard'",
                "dpd": "60",
                "reason": "'auto'",
                "created_at": "now()",
            },
            "FROM lending_loan WHERE classification <> 'normal'",
            p,
        )
        _insert(
            cur,
            "lending_loanclasshistory",
            {
                "loan_id": "id",
                "date": "start_date + 120",
                "from_class": "'substandard'",
                "to_class": "'doubtful'",
                "dpd": "120",
                "reason": "'auto'",
                "created_at": "now()",
            },
            "FROM lending_loan WHERE classification = 'doubtful'",
            p,
        )
        _insert(
            cur,
            "reports_loanmonthend",
            {
                "month_end": "%(month_end)s",
                "loan_id": "id",
                "cohort": "date_trunc('month', start_date)::date",
                "dpd": "dpd",
                "outstanding": "outstanding_principal",
                "principal": "principal",
            },
            "FROM lending_loan WHERE status IN ('active', 'overdue')",
            p,
        )
        step("class history, month-end snapshot, reserve")
        _insert(
            cur,
            "collateral_collateral",
            {
                "number": "'YP' || l.id",
                "kind": "CASE WHEN l.id %% 20 = 0 THEN 'pledge' ELSE 'mortgage' END",
                "category": "'real_estate'",
                "owner_id": "l.customer_id",
                "description": "'房产'",
                "status": "'registered'",
                "created_at": "now()",
                "updated_at": "now()",
                "version": "1",
            },
            "FROM lending_loan l WHERE l.id %% 10 = 0",
            p,
        )
        _insert(
            cur,
            "collateral_collaterallink",
            {
                "collateral_id": "c.id",
                "loan_id": "substring(c.number from 3)::bigint",
                "created_at": "now()",
            },
            "FROM collateral_collateral c",
            p,
        )
        _insert(
            cur,
            "collateral_guarantee",
            {
                "contract_number": "'BZ' || l.id",
                "guarantor_id": "%(first)s",
                "kind": "'joint'",
                "amount": "100000",
                "loan_id": "l.id",
                "status": "'active'",
                "note": "''",
                "created_at": "now()",
                "updated_at": "now()",
            },
            "FROM lending_loan l WHERE l.id %% 10 = 5",
            p,
        )
        step("collateral and guarantees")
        cur.execute("ANALYZE")
        step("ANALYZE")
    print(f"  generated in {time.perf_counter() - t0:.1f} s", flush=True)
    return p


def _median(fn, runs: int = 3) -> tuple[float, float]:
    first = time.perf_counter()
    fn()
    cold = time.perf_counter() - first
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return cold, statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    url, cleanup = _setup_env(os.environ.get("DATABASE_URL"))
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        if connection.vendor != "postgresql":
            print("PostgreSQL only (set DATABASE_URL)")
            return 2
        print(f"database: {connection.vendor} ({url.split('@')[-1]})", flush=True)
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"  migrated in {time.perf_counter() - t:.1f} s", flush=True)
        _generate(args.loans)

        from credo.reports import supervisory
        from credo.reports.supervisory_export import to_pdf, to_xlsx

        t = time.perf_counter()
        period = supervisory.freeze(MONTH, source="command")
        freeze_s = time.perf_counter() - t
        print(
            f"summary computation (compute as of {MONTH_END} + store): {freeze_s:.1f} s "
            f"[{period.totals['loans']:,} open loans, {period.cells.count()} cells]",
            flush=True,
        )

        def report() -> None:
            to_xlsx(supervisory.build_report(supervisory.load(MONTH)))

        cold, median = _median(report)
        t = time.perf_counter()
        to_pdf(supervisory.build_report(supervisory.load(MONTH)))
        pdf_s = time.perf_counter() - t
        with connection.cursor() as cur:
            t = time.perf_counter()
            cur.execute(
                "SELECT classification, count(*), sum(outstanding_principal) FROM lending_loan "
                "WHERE status IN ('active', 'overdue') GROUP BY classification"
            )
            cur.fetchall()
            floor_loans = time.perf_counter() - t
            t = time.perf_counter()
            cur.execute(
                "SELECT l.loan_id, sum(l.debit) - sum(l.credit) FROM lending_journalline l "
                "JOIN lending_journalentry e ON e.id = l.entry_id "
                "WHERE l.account_id = (SELECT id FROM lending_ledgeraccount "
                "WHERE code = 'loan_principal') AND e.business_date <= %s GROUP BY l.loan_id",
                [MONTH_END],
            )
            cur.fetchall()
            floor_ledger = time.perf_counter() - t
        problems = supervisory.verify(MONTH)
        ok = "✅" if median < 5 else "❌"
        print()
        print(f"| step | {args.loans:,} loans |")
        print("|---|---|")
        print(
            f"| report from the summaries (load + layout + Excel), first | {cold * 1000:.0f} ms |"
        )
        print(f"| report from the summaries, median of 3 | {median * 1000:.0f} ms {ok} (< 5 s) |")
        print(f"| PDF from the summaries | {pdf_s * 1000:.0f} ms |")
        print(f"| summary computation (compute + freeze) | {freeze_s:.1f} s |")
        print(f"| floor: plain GROUP BY of loans by class | {floor_loans * 1000:.0f} ms |")
        print(f"| floor: ledger balance per loan at month end (GROUP BY) | {floor_ledger:.1f} s |")
        print(f"| recompute = frozen | {'yes' if not problems else problems[:3]} |")
        return 0 if median < 5 and not problems else 1
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
