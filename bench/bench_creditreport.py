"""Credit-reporting records (征信报送) benchmark, PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_creditreport \\
        .venv/bin/python -m bench.bench_creditreport --loans 100000 [--template]

Generates the book of ``bench/bench_eod.py`` (N disbursed loans, 24 monthly installments each,
≈5 % with unpaid overdue installments, the rest paid on their due dates) directly in SQL, adds
each loan's 贷款本金 sub-ledger (a disbursement entry on the value date and one repayment entry
with the principal repaid by the reported month end, both balanced against cash) so the ledger
check has something to agree with, closes the reported month (2026-05), then times in the
same run:

* the floor: a plain ``SELECT`` of the same loans and their installments (the rows the build
  reads), fetched into Python;
* ``build_month``: every record of the month computed (no writes);
* ``submission_generate``: build + validation + insert of every record (the service the month-end
  close triggers), with the number of records and of validation errors.

Target (issue 22): a month's records for 100,000 loans < 60 s. ``--template`` saves the
generated book as ``<db>_tpl_<loans>`` and later runs copy it instead of generating it again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

from bench.bench_customers import _setup_env
from bench.bench_eod import _copy_database

BUSINESS_DATE = dt.date(2026, 6, 15)
MONTH = dt.date(2026, 5, 1)
MONTH_END = dt.date(2026, 5, 31)


def _generate(n: int) -> None:
    """The book of bench_eod (same shapes and dates); loans through the ORM (every column gets
    its model default, whatever migrations add), installments and balances in SQL."""
    from django.db import connection

    from credo.accounts.models import OrgUnit, User
    from credo.customers.demo import generate_customers
    from credo.customers.models import Customer
    from credo.lending.models import Loan, Product, ProductVersion

    hq = OrgUnit.objects.create(code="cr-hq", name="总部", kind="head_office")
    owner = User.objects.create(username="cr-am", display_name="经理", org_unit=hq)
    generate_customers(
        200, owners=[owner], seed=7, batch=200, with_relations=False, events_per_customer=0
    )
    customers = list(Customer.objects.values_list("id", flat=True))
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
    batch: list[Loan] = []
    for i in range(1, n + 1):
        start = bd - dt.timedelta(days=200 + i % 28)
        batch.append(
            Loan(
                number=f"B{i:09d}",
                customer_id=customers[i % len(customers)],
                product_version=pv,
                principal=1200000,
                annual_rate=12,
                months=24,
                method="equal_principal",
                penalty_multiplier=1.5,
                allocation_order=["penalty", "fee", "interest", "principal"],
                status="overdue" if i % 20 == 0 else "active",
                start_date=start,
                maturity_date=start.replace(year=start.year + 2),
                outstanding_principal=1200000,
                last_eod_date=bd - dt.timedelta(days=1),
                owner=owner,
                created_by=owner,
            )
        )
        if len(batch) == 5000:
            Loan.objects.bulk_create(batch)
            batch = []
    Loan.objects.bulk_create(batch)
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO lending_installment (loan_id, period, due_date, principal_due,
                interest_due, fee_due, penalty_due, principal_paid, interest_paid, fee_paid,
                penalty_paid, status, paid_on, compound_due, waived)
            SELECT l.id, p, d, 50000, 6000, 0, 0, pp, ip, 0, 0, st, po, 0, '{}'::jsonb FROM (
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
        cur.execute(
            """
            UPDATE lending_loan l SET outstanding_principal = 1200000 - s.paid
            FROM (SELECT loan_id, sum(principal_paid) AS paid FROM lending_installment
                  GROUP BY loan_id) s
            WHERE s.loan_id = l.id
            """
        )


def _ledger() -> None:
    """Each loan's disbursement (Dr 贷款本金 / Cr 银行存款, value date) and its principal repaid
    by the month end (Dr 银行存款 / Cr 贷款本金, dated the month end), in SQL."""
    from django.db import connection

    from credo.lending.ledger import account_ids

    ids = account_ids(["loan_principal", "cash"])
    with connection.cursor() as cur:
        for kind, date_sql, amount_sql, principal_side in (
            ("disbursement", "l.start_date", "l.principal", "debit"),
            (
                "repayment",
                "%(me)s::date",
                "(SELECT coalesce(sum(i.principal_paid), 0) FROM lending_installment i "
                "WHERE i.loan_id = l.id AND i.paid_on <= %(me)s)",
                "credit",
            ),
        ):
            cur.execute(
                f"""
                CREATE TEMP TABLE bench_e AS
                SELECT l.id AS loan_id, {amount_sql} AS amount FROM lending_loan l
                """,
                {"me": MONTH_END},
            )
            cur.execute(
                f"""
                WITH e AS (
                    INSERT INTO lending_journalentry (kind, loan_id, business_date, memo,
                        created_at)
                    SELECT %(kind)s, b.loan_id, {date_sql.replace("l.", "x.")}, 'bench', now()
                    FROM bench_e b JOIN lending_loan x ON x.id = b.loan_id WHERE b.amount > 0
                    RETURNING id, loan_id)
                INSERT INTO lending_journalline (entry_id, account_id, loan_id, debit, credit)
                SELECT e.id, a.account, e.loan_id,
                       CASE WHEN a.side = 'debit' THEN b.amount ELSE 0 END,
                       CASE WHEN a.side = 'credit' THEN b.amount ELSE 0 END
                FROM e JOIN bench_e b ON b.loan_id = e.loan_id
                CROSS JOIN (VALUES (%(principal)s, %(pside)s), (%(cash)s, %(cside)s))
                    AS a (account, side)
                """,
                {
                    "kind": kind,
                    "me": MONTH_END,
                    "principal": ids["loan_principal"],
                    "cash": ids["cash"],
                    "pside": principal_side,
                    "cside": "credit" if principal_side == "debit" else "debit",
                },
            )
            cur.execute("DROP TABLE bench_e")
        cur.execute("ANALYZE")


def _floor(loan_ids: list[int]) -> float:
    """A plain SELECT of the same loans and their installments, fetched into Python."""
    from django.db import connection

    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, number, customer_id, principal, method, start_date, maturity_date, "
            "status, classification FROM lending_loan WHERE id = ANY(%s)",
            [loan_ids],
        )
        cur.fetchall()
        cur.execute(
            "SELECT loan_id, period, due_date, principal_due, interest_due, fee_due, "
            "principal_paid, interest_paid, fee_paid, paid_on FROM lending_installment "
            "WHERE loan_id = ANY(%s)",
            [loan_ids],
        )
        cur.fetchall()
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--template", action="store_true", help="re-use / save the book")
    parser.add_argument("--profile", action="store_true", help="cProfile the generation")
    args = parser.parse_args(argv)
    db_url = os.environ.get("DATABASE_URL", "")
    if not db_url.startswith("postgres"):
        print("bench_creditreport needs DATABASE_URL=postgres://… (PostgreSQL only)")
        return 2
    url, cleanup = _setup_env(db_url)
    os.environ["CREDO_CREDITREPORT_AUTO"] = "0"  # the bench times the generation itself
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from credo.creditreport import services
        from credo.creditreport.build import build_month, candidate_loans
        from credo.creditreport.compute import month_index
        from credo.lending.books.models import AccountingPeriod
        from credo.lending.models import Installment

        template = f"{url.rpartition('/')[2]}_tpl_{args.loans}"
        from_template = args.template and _copy_database(url, template, into_template=False)
        print(f"database: {connection.vendor} ({url.split('@')[-1]})", flush=True)
        call_command("migrate", verbosity=0)
        if from_template:
            print(f"  book copied from the template database {template}", flush=True)
        else:
            t = time.perf_counter()
            _generate(args.loans)
            _ledger()
            AccountingPeriod.objects.update_or_create(month=MONTH, defaults={"status": "closed"})
            print(
                f"  generated {args.loans:,} loans / {Installment.objects.count():,} "
                f"installments + ledger in {time.perf_counter() - t:.1f} s",
                flush=True,
            )
            if args.template:
                _copy_database(url, template, into_template=True)
                print(f"  saved as the template database {template}", flush=True)
        ids = list(candidate_loans(month_index(MONTH)).values_list("pk", flat=True))
        floor = min(_floor(ids) for _ in range(2))
        t = time.perf_counter()
        built = build_month(MONTH)
        build_s = time.perf_counter() - t
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t = time.perf_counter()
        sub = services.submission_generate(month=MONTH, actor=None, today=dt.date(2026, 6, 15))
        total = time.perf_counter() - t
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        # the set-based sums against the per-installment path on a sample (every 50th loan)
        sample = ids[::50]
        fast = build_month(MONTH, sample).rows
        exact = build_month(MONTH, sample, exact=True).rows
        assert fast == exact, "set-based and per-installment records differ"
        n = sub.counts["records"]
        print(
            f"month {MONTH:%Y-%m}: {n:,} records ({len(built.rows):,} built), "
            f"{sub.counts['overdue']:,} overdue, {sub.error_count:,} validation errors"
        )
        print(f"  sample of {len(sample):,} loans: set-based = per-installment records")
        print(f"  floor (SELECT loans + installments): {floor:6.2f} s")
        print(f"  build_month (no writes):             {build_s:6.2f} s")
        print(
            f"  submission_generate (build+validate+insert): {total:6.2f} s "
            f"({n / total:,.0f} records/s, {total / floor:.1f}× floor)"
        )
        ok = total < 60 * args.loans / 100_000
        print(f"  target < {60 * args.loans / 100_000:.0f} s: {'OK' if ok else 'MISSED'}")
        return 0 if ok else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
