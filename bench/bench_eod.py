"""Close-of-business batch (日终批处理) benchmark, PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_eod \\
        .venv/bin/python -m bench.bench_eod --loans 100000

Generates N disbursed loans with 24 monthly installments each (≈5% with two unpaid overdue
installments, the rest paid up to the business date) directly in SQL, marks the previous day's
EOD as done, runs that date's after-close jobs once (their first run opens the book's cases and
alerts: a warm-up, so the timed days are steady state), then times, for each day:

* the SQL floor (``_floor``): the set-based statements of a close for the same rows — due /
  overdue marking, one day of 罚息, DPD, status, 五级分类, ``last_eod_date`` — rolled back;
* ``run_eod`` inline: the close (chunks), then every after-close job (monitoring, collections,
  report snapshots, …), each timed from its ``EodJob`` row — on ``--workers`` threads (default
  ``CREDO_EOD_WORKERS``: one per core, as ``credo eod`` runs them; ``--workers 1`` one after
  the other). The close is the run's own start → finish; the jobs' wall time is the rest (each
  job's own duration is listed; on several threads they overlap);

for the business date (a normal day: ≈1/30 of the loans fall due) and the next day (those loans
become overdue: status changes, timeline events, collections cases and reminders).

Loans are written without journal entries, so the ledger is not verified here (the ledger
invariants after EOD are covered by tests/lending/test_eod.py). Target (issue 19): the overdue
day including all after-close jobs < 15 s per 100,000 loans and ≤ 3× the floor. ``--profile``
prints a cProfile of each timed close (no target then). Generation of 1,000,000 loans takes
≈ 8 minutes on the 2-core machine (``--loans 1000000``; the bench prints each step).
``--template`` saves the generated, warmed-up book as ``<db>_tpl_<loans>`` and later runs copy
it (``CREATE DATABASE … TEMPLATE``) instead of generating it again.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from bench.bench_customers import _setup_env

BUSINESS_DATE = dt.date(2026, 6, 15)


@contextlib.contextmanager
def _model_defaults(*models: Any) -> Iterator[None]:
    """The Django defaults of ``models``' columns as database defaults meanwhile: the raw
    INSERTs below name the columns they know, and a column added since (NOT NULL with a Django
    default, e.g. ``upfront_fee_timing``) would otherwise refuse them."""
    from django.db import connection

    set_ = []
    for model in models:
        table = model._meta.db_table
        for f in model._meta.concrete_fields:
            if f.primary_key or not f.has_default() or callable(f.default):
                continue
            set_.append((table, f.column, f.get_db_prep_value(f.default, connection)))
    with connection.cursor() as cur:
        for table, column, value in set_:
            literal = cur.mogrify("%s", [value])
            cur.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET DEFAULT {literal}')
    try:
        yield
    finally:
        with connection.cursor() as cur:
            for table, column, _v in set_:
                cur.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP DEFAULT')


def _generate(n: int) -> None:
    from credo.lending.models import Installment, Loan

    with _model_defaults(Loan, Installment):
        _generate_rows(n)


def _generate_rows(n: int) -> None:
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
                owner_id, created_by_id, created_at, version, compound_interest, penalty_from,
                classification_floor, rate_type, lpr_tenor, spread_bp, repricing, holiday_rule,
                upfront_fee_timing)
            SELECT 'B' || lpad(i::text, 9, '0'), (%(cust)s::bigint[])[1 + i %% %(nc)s], %(pv)s,
                1200000, 12, 24, 'equal_principal', 0, 0, 1.5, 0, 360,
                '["penalty","fee","interest","principal"]'::jsonb,
                CASE WHEN i %% 20 = 0 THEN 'overdue' ELSE 'active' END, 'normal', 0,
                %(bd)s::date - (200 + i %% 28), (%(bd)s::date - (200 + i %% 28)) + interval '24 months',
                1200000, 0, %(prev)s, %(owner)s, %(owner)s, now(), 2, true, 'due_date', '',
                'fixed', '1y', 0, 'annual_jan1', 'defer_penalty', 'disbursement'
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
            "WHEN dpd >= 271 THEN 'doubtful' WHEN dpd >= 91 THEN 'substandard' "
            "WHEN dpd >= 1 THEN 'special_mention' ELSE 'normal' END WHERE dpd > 0"
        )
        cur.execute("ANALYZE")
        print(f"  balances/DPD set in {time.perf_counter() - t:.1f} s", flush=True)
    EodRun.objects.create(business_date=prev, status="done")


def _floor(day: dt.date) -> float:
    """The SQL floor of one close for the same rows, in one transaction, rolled back: the
    set-based statements a close cannot do with less — installments SCHEDULED → DUE and
    DUE → OVERDUE (grace days from the loan), one day of 罚息 on the overdue principal and of 复利
    on the overdue interest added to
    each loan's oldest overdue installment, then every open loan's DPD, status, 五级分类 and
    ``last_eod_date`` from its unpaid installments."""
    from django.db import connection, transaction

    params = {"day": day}
    t = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            """
            UPDATE lending_installment i
               SET status = CASE WHEN i.due_date < %(day)s::date - l.grace_days
                                 THEN 'overdue' ELSE 'due' END
              FROM lending_loan l
             WHERE l.id = i.loan_id AND l.status IN ('active', 'overdue')
               AND i.due_date <= %(day)s
               AND (i.status = 'scheduled'
                    OR (i.status = 'due' AND i.due_date < %(day)s::date - l.grace_days))
            """,
            params,
        )
        cur.execute(
            """
            CREATE TEMP TABLE eod_floor ON COMMIT DROP AS
            SELECT i.loan_id, min(i.due_date) AS oldest_unpaid,
                   sum(i.principal_due - i.principal_paid)
                       FILTER (WHERE i.status = 'overdue') AS overdue_principal,
                   sum(i.interest_due - i.interest_paid)
                       FILTER (WHERE i.status = 'overdue') AS overdue_interest,
                   min(i.id) FILTER (WHERE i.status = 'overdue') AS oldest_overdue
              FROM lending_installment i
              JOIN lending_loan l ON l.id = i.loan_id AND l.status IN ('active', 'overdue')
             WHERE i.status IN ('due', 'overdue')
             GROUP BY i.loan_id
            """
        )
        cur.execute(
            """
            UPDATE lending_installment i
               SET penalty_due = i.penalty_due + round(f.overdue_principal * l.annual_rate
                   * l.penalty_multiplier / (100 * l.penalty_days_in_year))
                   + round(f.overdue_interest * l.annual_rate
                   * l.penalty_multiplier / (100 * l.penalty_days_in_year))
              FROM eod_floor f JOIN lending_loan l ON l.id = f.loan_id
             WHERE i.id = f.oldest_overdue AND f.overdue_principal > 0
            """
        )
        cur.execute(
            """
            UPDATE lending_loan l
               SET dpd = v.dpd,
                   status = CASE WHEN v.overdue THEN 'overdue' ELSE 'active' END,
                   classification = CASE WHEN v.dpd >= 361 THEN 'loss'
                       WHEN v.dpd >= 271 THEN 'doubtful' WHEN v.dpd >= 91 THEN 'substandard'
                       WHEN v.dpd >= 1 THEN 'special_mention' ELSE 'normal' END,
                   last_eod_date = %(day)s
              FROM (SELECT l2.id, f.overdue_principal IS NOT NULL AS overdue,
                           CASE WHEN f.overdue_principal IS NOT NULL
                                THEN %(day)s::date - f.oldest_unpaid ELSE 0 END AS dpd
                      FROM lending_loan l2 LEFT JOIN eod_floor f ON f.loan_id = l2.id
                     WHERE l2.status IN ('active', 'overdue')) v
             WHERE l.id = v.id
            """,
            params,
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


def _copy_database(url: str, template: str, *, into_template: bool) -> bool:
    """``into_template``: save the bench database as ``template``; else replace the bench
    database by a copy of ``template`` (False when there is none). PostgreSQL's
    ``CREATE DATABASE … TEMPLATE`` copies the files: seconds instead of minutes of generation."""
    import psycopg
    from django.db import connections

    base, _, name = url.rpartition("/")
    connections.close_all()
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if into_template:
            conn.execute(f'DROP DATABASE IF EXISTS "{template}"')
            conn.execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
            return True
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone()
        if not found:
            return False
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return True


def _close_with_jobs(day: dt.date, chunk_size: int, profile: bool, workers: int) -> dict[str, Any]:
    """One ``run_eod`` (inline: the chunks, then every after-close job, on ``workers``
    threads); the close (the run's own start → finish) and each job timed separately; the jobs'
    wall time is the rest (jobs overlap on several threads)."""
    from credo.lending.eod import run_eod
    from credo.lending.eod.views import job_label
    from credo.lending.models import EodJob

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t = time.perf_counter()
    run = run_eod(day, chunk_size=chunk_size, workers=workers)
    total = time.perf_counter() - t
    if profiler is not None:
        import pstats

        profiler.disable()
        print(f"--- cProfile of run_eod({day}), top 40 by cumulative time ---")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    assert run.status == "done", run.error
    jobs = list(EodJob.objects.filter(run=run).order_by("order", "id"))
    failed = [f"{j.key}: {j.error}" for j in jobs if j.status != "done"]
    job_seconds = {
        str(job_label(j.key)): j.duration.total_seconds() if j.duration else 0.0 for j in jobs
    }
    close = (run.finished_at - run.started_at).total_seconds()
    return {
        "run": run,
        "total": total,
        "close": close,
        "jobs": job_seconds,
        "jobs_total": total - close,
        "failed": failed,
        "counts": {k: v for k, v in run.counts.items() if not k.startswith("_")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="threads of the inline close (0: CREDO_EOD_WORKERS, by default one per core)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile each timed close (slower; no target)"
    )
    parser.add_argument(
        "--template",
        action="store_true",
        help="re-use <db>_tpl_<loans> (the generated, warmed-up book) when it exists, else "
        "save it after the warm-up: repeated runs skip generation",
    )
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

        from credo.lending.eod import after_close_job_list, run_eod
        from credo.lending.models import Installment, Loan

        template = f"{url.rpartition('/')[2]}_tpl_{args.loans}"
        from_template = args.template and _copy_database(url, template, into_template=False)
        print(f"database: {connection.vendor} ({url.split('@')[-1]})", flush=True)
        call_command("migrate", verbosity=0)
        generation = 0.0
        if from_template:
            print(f"  book copied from the template database {template}", flush=True)
        else:
            t = time.perf_counter()
            _generate(args.loans)
            # the book is on the accrual basis (no BookSettings row): its sub-ledger as the
            # close of the previous day left it, else the first timed close would open every
            # loan's accrual row (a one-off of the first close after the feature, not the
            # steady state measured here)
            from bench.bench_accrual import _seed_steady_state

            seeded = _seed_steady_state()
            print(f"  accrual sub-ledger seeded ({seeded:,} loans)", flush=True)
            generation = time.perf_counter() - t
            print(
                f"  generated {args.loans:,} loans / {Installment.objects.count():,} "
                f"installments in {generation:.1f} s",
                flush=True,
            )
        print(f"  after-close jobs: {[j.key for j in after_close_job_list()]}", flush=True)
        if not from_template:
            # Warm-up: the generated book's date gets its after-close jobs (their first run
            # opens every case and alert of the book); the timed days are then steady state.
            t = time.perf_counter()
            prev = BUSINESS_DATE - dt.timedelta(days=1)
            run_eod(prev)
            print(f"  warm-up: after-close jobs of {prev} in {time.perf_counter() - t:.1f} s")
            if args.template:
                _copy_database(url, template, into_template=True)
                print(f"  saved as the template database {template}", flush=True)
        # A worker is a long-running process: its URL configuration (reverse() in the
        # notices) is loaded once, not inside the first timed close (≈ 1 s, which the
        # in-process warm-up above pays when the book is not copied from the template).
        from django.urls import get_resolver

        get_resolver().reverse_dict  # noqa: B018 — populates the resolver
        from credo.lending.eod.runs import eod_workers

        workers = args.workers or eod_workers()
        print(f"  inline close on {workers} thread(s)", flush=True)
        results = []
        for day, kind in (
            (BUSINESS_DATE, "normal day"),
            (BUSINESS_DATE + dt.timedelta(days=1), "overdue day"),
        ):
            floor = _floor(day)
            r = _close_with_jobs(day, args.chunk_size, args.profile, workers)
            assert r["run"].loans_done == args.loans, (r["run"].loans_done, args.loans)
            jobs = ", ".join(f"{k} {v:.2f} s" for k, v in r["jobs"].items())
            print(
                f"  EOD {day} ({kind}): total {r['total']:.2f} s = close {r['close']:.2f} s + "
                f"jobs {r['jobs_total']:.2f} s ({jobs}); floor {floor:.2f} s, ratio "
                f"{r['total'] / floor:.1f}× {r['counts']}",
                flush=True,
            )
            for failure in r["failed"]:
                print(f"  ❌ job not done: {failure}")
            results.append((day, kind, r, floor))
        again = time.perf_counter()
        run_eod(BUSINESS_DATE + dt.timedelta(days=1))
        rerun = time.perf_counter() - again
        overdue = Loan.objects.filter(status="overdue").count()
        scale = max(1.0, args.loans / 100_000)
        target_s = 15 * scale
        print()
        print(
            f"Database: {connection.vendor}; {args.loans:,} loans, "
            f"{Installment.objects.count():,} installments, chunk {args.chunk_size}, "
            f"{workers} thread(s); "
            f"generation {generation:.0f} s"
        )
        print()
        job_names = list(results[0][2]["jobs"])
        print(
            "| Business date | close | "
            + " | ".join(job_names)
            + " | total | SQL floor | close / floor | total / floor | target | |"
        )
        print("|---" * (len(job_names) + 8) + "|")
        ok = True
        for day, kind, r, floor in results:
            c = r["counts"]
            checked = kind == "overdue day" and not args.profile
            passed = not r["failed"] and r["total"] < target_s and r["total"] <= 3 * floor
            if checked:
                ok = ok and passed
            mark = ("✅" if passed else "❌") if checked else ""
            print(
                f"| {day} {kind} ({c['installments_due']:,} due, {c['became_overdue']:,} "
                f"became overdue, {c['penalty_fen'] / 100:,.2f} 元 penalty) | "
                f"{r['close']:.2f} s | "
                + " | ".join(f"{r['jobs'].get(n, 0):.2f} s" for n in job_names)
                + f" | {r['total']:.2f} s | {floor:.2f} s | {r['close'] / floor:.1f}× | "
                f"{r['total'] / floor:.1f}× | "
                + (f"< {target_s:g} s and ≤ 3× floor | {mark} |" if checked else " | |")
            )
        print(f"| re-run of a done date (idempotent) | {rerun * 1000:.1f} ms |")
        print(f"\nloans overdue after the run: {overdue:,}")
        return 0 if ok else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
