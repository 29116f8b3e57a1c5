"""Close-of-business batch (日终批处理) benchmark, PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_eod \\
        .venv/bin/python -m bench.bench_eod --loans 100000

Generates N disbursed loans with 24 monthly installments each (≈5% with two unpaid overdue
installments, the rest paid up to the business date) directly in SQL, marks the previous day's
EOD as done, then times:

* the floor: one plain SQL UPDATE of the same installments (unpaid, due ≤ date) plus the
  ``last_eod_date`` UPDATE of the open loans, rolled back;
* ``run_eod`` for the business date (a steady-state day: ≈1/30 of the loans fall due);
* ``run_eod`` for the next day (those loans become overdue: status changes, timeline events,
  audit rows, the close-of-business done listeners).

Loans are written without journal entries, so the ledger is not verified here (the ledger
invariants after EOD are covered by tests/lending/test_eod.py). Target: < 60 s for 100,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from typing import Any

from bench.bench_customers import _setup_env

BUSINESS_DATE = dt.date(2026, 6, 15)


def _generate(n: int) -> None:
    from django.db import connection

    from credo.accounts.models import OrgUnit, User
    from credo.customers.demo import generate_customers
    from credo.customers.models import Customer
    from credo.lending.models import EodRun, Product, ProductVersion

    hq = OrgUnit.objects.create(code="e-hq", name="总部", kind="head_office")
    owner = User.objects.create(username="eod-am", display_name="经理", org_unit=hq)
    generate_customers(
        200, owners=[owner], seed=7, batch=200, with_relations=False, events_per_customer=0
    )
    customer_ids = list(Customer.objects.values_list("id", flat=True))
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
        max_rate=18,
        method="equal_principal",
        allocation_order=["penalty", "fee", "interest", "principal"],
    )
    bd = BUSINESS_DATE
    prev = bd - dt.timedelta(days=1)
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO lending_loan (number, customer_id, product_version_id, principal,
                annual_rate, months, method, upfront_fee, installment_fee, penalty_multiplier,
                grace_days, penalty_days_in_year, allocation_order, status, classification, dpd,
                start_date, maturity_date, outstanding_principal, credit_balance, last_eod_date,
                owner_id, created_by_id, created_at, version)
            SELECT 'B' || lpad(i::text, 9, '0'), (%(cust)s::bigint[])[1 + i %% %(nc)s], %(pv)s,
                1200000, 12, 24, 'equal_principal', 0, 0, 1.5, 0, 360,
                '["penalty","fee","interest","principal"]'::jsonb,
                CASE WHEN i %% 20 = 0 THEN 'overdue' ELSE 'active' END, 'normal', 0,
                %(bd)s::date - (200 + i %% 28), (%(bd)s::date - (200 + i %% 28)) + interval '24 months',
                1200000, 0, %(prev)s, %(owner)s, %(owner)s, now(), 2
            FROM generate_series(1, %(n)s) AS i
            """,
            {
                "cust": customer_ids,
                "nc": len(customer_ids),
                "pv": pv.pk,
                "bd": bd,
                "prev": prev,
                "owner": owner.pk,
                "n": n,
            },
        )
        print(f"  loans inserted in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        cur.execute(
            """
            INSERT INTO lending_installment (loan_id, period, due_date, principal_due,
                interest_due, fee_due, penalty_due, principal_paid, interest_paid, fee_paid,
                penalty_paid, status, paid_on)
            SELECT l.id, p, d, 50000, 6000, 0, 0, pp, ip, 0, 0, st, po FROM (
                SELECT l.id, p, (l.start_date + make_interval(months => p))::date AS d,
                       l.status AS ls
                FROM lending_loan l CROSS JOIN generate_series(1, 24) AS p
            ) l (id, p, d, ls)
            CROSS JOIN LATERAL (SELECT
                (d < %(bd)s AND NOT (ls = 'overdue' AND d >= %(bd)s::date - 65)) AS paid) x
            CROSS JOIN LATERAL (SELECT
                CASE WHEN x.paid THEN 50000 ELSE 0 END AS pp,
                CASE WHEN x.paid THEN 6000 ELSE 0 END AS ip,
                CASE WHEN x.paid THEN 'paid' WHEN d < %(bd)s THEN 'overdue'
                     ELSE 'scheduled' END AS st,
                CASE WHEN x.paid THEN d END AS po) y
            """,
            {"bd": bd},
        )
        print(f"  installments inserted in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        cur.execute(
            """
            UPDATE lending_loan l SET outstanding_principal = 1200000 - s.paid,
                dpd = CASE WHEN s.oldest IS NULL THEN 0 ELSE %(prev)s::date - s.oldest END
            FROM (SELECT loan_id, sum(principal_paid) AS paid,
                         min(due_date) FILTER (WHERE status = 'overdue') AS oldest
                  FROM lending_installment GROUP BY loan_id) s
            WHERE s.loan_id = l.id
            """,
            {"prev": prev},
        )
        cur.execute(
            "UPDATE lending_loan SET classification = CASE WHEN dpd >= 361 THEN 'loss' "
            "WHEN dpd >= 181 THEN 'doubtful' WHEN dpd >= 91 THEN 'substandard' "
            "WHEN dpd >= 1 THEN 'special_mention' ELSE 'normal' END WHERE dpd > 0"
        )
        cur.execute("ANALYZE")
        print(f"  balances/DPD set in {time.perf_counter() - t:.1f} s", flush=True)
    EodRun.objects.create(business_date=prev, status="done")


def _floor(day: dt.date) -> float:
    from django.db import connection, transaction

    t = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE lending_installment SET status = CASE WHEN due_date < %s THEN 'overdue' "
            "ELSE 'due' END WHERE status IN ('scheduled', 'due', 'overdue') AND due_date <= %s",
            [day, day],
        )
        cur.execute(
            "UPDATE lending_loan SET last_eod_date = %s WHERE status IN ('active', 'overdue')",
            [day],
        )
        elapsed = time.perf_counter() - t
        transaction.set_rollback(True)
    return elapsed


def setup_book(name: str, loans: int) -> tuple[str, Any] | None:
    """The common start of the PostgreSQL loan-book benchmarks: fresh database from
    ``DATABASE_URL``, Django set up and migrated, ``loans`` generated. None (after saying why)
    when ``DATABASE_URL`` is not PostgreSQL."""
    db_url = os.environ.get("DATABASE_URL", "")
    if not db_url.startswith("postgres"):
        print(f"{name} needs DATABASE_URL=postgres://… (PostgreSQL only)")
        return None
    url, cleanup = _setup_env(db_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    print(f"database: {connection.vendor} ({url.split('@')[-1]})", flush=True)
    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    _generate(loans)
    print(f"  generated {loans:,} loans in {time.perf_counter() - t:.1f} s", flush=True)
    return url, cleanup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    db_url = os.environ.get("DATABASE_URL", "")
    if not db_url.startswith("postgres"):
        print("bench_eod needs DATABASE_URL=postgres://… (PostgreSQL only)")
        return 2
    url, cleanup = _setup_env(db_url)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from credo.lending.eod import run_eod
        from credo.lending.models import Installment, Loan

        print(f"database: {connection.vendor} ({url.split('@')[-1]})", flush=True)
        call_command("migrate", verbosity=0)
        t = time.perf_counter()
        _generate(args.loans)
        print(
            f"  generated {args.loans:,} loans / {Installment.objects.count():,} "
            f"installments in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        rows = []
        for day in (BUSINESS_DATE, BUSINESS_DATE + dt.timedelta(days=1)):
            floor = _floor(day)
            t = time.perf_counter()
            run = run_eod(day, chunk_size=args.chunk_size)
            elapsed = time.perf_counter() - t
            assert run.status == "done", run.error
            assert run.loans_done == args.loans, (run.loans_done, args.loans)
            counts = {k: v for k, v in run.counts.items() if not k.startswith("_")}
            print(
                f"  EOD {day}: {elapsed:.2f} s (floor {floor:.2f} s, ratio "
                f"{elapsed / floor:.1f}×) {counts}",
                flush=True,
            )
            rows.append((day, elapsed, floor, counts))
        again = time.perf_counter()
        run_eod(BUSINESS_DATE + dt.timedelta(days=1))
        rerun = time.perf_counter() - again
        overdue = Loan.objects.filter(status="overdue").count()
        print()
        print(
            f"Database: {connection.vendor}; {args.loans:,} loans, "
            f"{Installment.objects.count():,} installments, chunk {args.chunk_size}"
        )
        print()
        print("| Business date | EOD | SQL UPDATE floor | Ratio | Target | |")
        print("|---|---|---|---|---|---|")
        ok = True
        for day, elapsed, floor, counts in rows:
            passed = elapsed < 60 * max(1, args.loans / 100_000)
            ok = ok and passed
            print(
                f"| {day} ({counts['installments_due']:,} due, {counts['became_overdue']:,} "
                f"became overdue, {counts['penalty_fen'] / 100:,.2f} 元 penalty) | "
                f"{elapsed:.2f} s | {floor:.2f} s | {elapsed / floor:.1f}× | "
                f"< {60 * max(1, args.loans / 100_000):g} s | {'✅' if passed else '❌'} |"
            )
        print(f"| re-run of a done date (idempotent) | {rerun * 1000:.1f} ms | | | | |")
        print(f"\nloans overdue after the run: {overdue:,}")
        return 0 if ok else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
