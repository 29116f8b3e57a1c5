"""Accrual accounting (权责发生制) cost in the close of business, PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_accrualbench \\
        .venv/bin/python -m bench.bench_accrual --loans 100000 --template

The book of ``bench_eod`` (N loans, 24 monthly installments, ≈5% overdue; generated once and
kept as the template database ``<db>_tpl_<N>`` with ``--template``, or taken from
``--from-template NAME``, e.g. ``credo_bench_eod_tpl_100000``). In ONE run, each round copies
the template afresh and closes the normal business day 2026-06-15 twice:

* **without accrual** — the book on the cash basis (收付实现制): the close as before;
* **with accrual** — the book on the accrual basis, each open loan's sub-ledger row as the
  previous day's close left it (steady state: period pointer and what is accrued of it), so
  the close adds, per chunk, the day's interest of every open loan (one set-based
  ``UPDATE … FROM``), the 罚息 of the overdue ones and one accrual batch per product; the
  after-close job 利息计提入账 then posts one entry per product (timed separately).

``--rounds`` alternates the two (without, with, without, with, …) so that the machine's load
falls on both alike; the table gives each close (chunks only: the run's total minus its
after-close jobs) and the ratio. Target (issue 20): accrual adds ≤ 30 % to the normal-day
close at 100,000 loans. ``--first-day`` also times a close where no loan has its sub-ledger
row yet (the first day of accrual: the rows are inserted).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from typing import Any

from bench.bench_customers import _setup_env
from bench.bench_eod import BUSINESS_DATE, _close_with_jobs, _copy_database, _generate

PREV = BUSINESS_DATE - dt.timedelta(days=1)


def _generate_book(n: int) -> None:
    """``bench_eod._generate`` with the Django defaults of the loan and installment columns set
    as database defaults meanwhile: its raw INSERT names the columns it knew, a column added
    since (NOT NULL, Django default) would refuse it."""
    from django.db import connection

    from credo.lending.models import Installment, Loan

    set_ = []
    for model in (Loan, Installment):
        table = model._meta.db_table
        for f in model._meta.concrete_fields:
            if f.primary_key or not f.has_default() or callable(f.default):
                continue
            value = f.get_db_prep_value(f.default, connection)
            set_.append((table, f.column, value))
    with connection.cursor() as cur:
        for table, column, value in set_:
            literal = cur.mogrify("%s", [value]) if hasattr(cur, "mogrify") else repr(value)
            cur.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET DEFAULT {literal}')
    try:
        _generate(n)
    finally:
        with connection.cursor() as cur:
            for table, column, _v in set_:
                cur.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP DEFAULT')


def _set_basis(basis: str) -> None:
    from credo.lending.accruals.models import BookSettings

    BookSettings.objects.update_or_create(pk=1, defaults={"basis": basis})


def _seed_steady_state() -> int:
    """Each open loan's sub-ledger row as the close of the previous day left it."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DELETE FROM lending_loanaccrual")
        cur.execute(
            """
            INSERT INTO lending_loanaccrual (loan_id, product_id, interest_accrued,
                interest_adjusted, interest_off_balance, penalty_accrued, penalty_adjusted,
                penalty_off_balance, period_start, period_due, period_interest, period_accrued,
                last_date, checked_version)
            SELECT l.id, pv.product_id, x.acc, 0, 0, 0, 0, 0, x.ps, c.due_date,
                   COALESCE(c.interest_due, 0), x.acc, %(prev)s, l.version
              FROM lending_loan l
              JOIN lending_productversion pv ON pv.id = l.product_version_id
              LEFT JOIN LATERAL (
                  SELECT i.period, i.due_date, i.interest_due FROM lending_installment i
                   WHERE i.loan_id = l.id AND i.due_date > %(prev)s
                   ORDER BY i.due_date LIMIT 1) c ON true
              LEFT JOIN lending_installment p
                ON p.loan_id = l.id AND p.period = c.period - 1
             CROSS JOIN LATERAL (SELECT COALESCE(p.due_date, l.start_date) AS ps) s
             CROSS JOIN LATERAL (SELECT s.ps,
                   CASE WHEN c.due_date IS NULL THEN 0
                        ELSE c.interest_due * (%(prev)s::date - s.ps) / (c.due_date - s.ps)
                   END AS acc) x
             WHERE l.status IN ('active', 'overdue')
            """,
            {"prev": PREV},
        )
        n = cur.rowcount
        cur.execute("VACUUM ANALYZE lending_loanaccrual")
    return n


def _one(url: str, template: str, *, accrual: bool, seed: bool, chunk: int) -> dict[str, Any]:
    from django.db import connection

    _copy_database(url, template, into_template=False)
    connection.ensure_connection()
    _set_basis("accrual" if accrual else "cash")
    seeded = _seed_steady_state() if accrual and seed else 0
    with connection.cursor() as cur:
        cur.execute("CHECKPOINT")
    r = _close_with_jobs(BUSINESS_DATE, chunk, False)
    assert r["run"].status == "done", r["run"].error
    from credo.lending.models import EodChunk, JournalEntry

    chunk_counts = [c.counts for c in EodChunk.objects.filter(run=r["run"])]
    r["accrued_interest"] = sum(int(c.get("accrued_interest", 0)) for c in chunk_counts)
    r["accrued_penalty"] = sum(int(c.get("accrued_penalty", 0)) for c in chunk_counts)
    r["accrued_loans"] = sum(int(c.get("accrued_loans", 0)) for c in chunk_counts)
    r["entries"] = JournalEntry.objects.filter(kind="accrual").count()
    r["seeded"] = seeded
    return r


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--template", action="store_true", help="keep/reuse <db>_tpl_<loans>")
    parser.add_argument("--from-template", default="", help="copy this database as the book")
    parser.add_argument("--first-day", action="store_true", help="also time the first day")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--all-jobs",
        action="store_true",
        help="run every after-close job (default: only 利息计提入账 — the close is what is compared)",
    )
    args = parser.parse_args(argv)
    db_url = os.environ.get("DATABASE_URL", "")
    if not db_url.startswith("postgres"):
        print("bench_accrual needs DATABASE_URL=postgres://… (PostgreSQL only)")
        return 2
    url, cleanup = _setup_env(db_url)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from credo.lending.eod import run_eod

        template = f"{url.rpartition('/')[2]}_tpl_{args.loans}"
        have = _copy_database(url, args.from_template or template, into_template=False)
        print(f"database: {connection.vendor} ({url.split('@')[-1]})", flush=True)
        call_command("migrate", verbosity=0)  # a template of an older schema is migrated
        if not have:
            t = time.perf_counter()
            _generate_book(args.loans)
            print(f"  generated {args.loans:,} loans in {time.perf_counter() - t:.1f} s")
            run_eod(PREV)  # warm-up: the after-close jobs' first run opens cases and alerts
        if not have or args.from_template or not args.template:
            _copy_database(url, template, into_template=True)
        print(f"  book template: {template}", flush=True)
        if not args.all_jobs:
            from credo.lending.eod.common import after_close_jobs, unregister_after_close_job

            for job in list(after_close_jobs):
                if job.key != "interest_accrual":
                    unregister_after_close_job(job.key)
        rows: list[tuple[str, dict[str, Any]]] = []
        plan = []
        for _r in range(args.rounds):
            plan += [("without accrual", False, False), ("with accrual", True, True)]
        if args.first_day:
            plan.append(("with accrual, first day (rows inserted)", True, False))
        for label, accrual, seed in plan:
            r = _one(url, template, accrual=accrual, seed=seed, chunk=args.chunk_size)
            jobs = ", ".join(f"{k} {v:.2f} s" for k, v in r["jobs"].items())
            print(
                f"  {label}: close {r['close']:.2f} s (jobs {r['jobs_total']:.2f} s: {jobs}); "
                f"accrued {r['accrued_loans']:,} loans, {r['accrued_interest'] / 100:,.2f} 元 "
                f"interest, {r['accrued_penalty'] / 100:,.2f} 元 罚息, {r['entries']} entries",
                flush=True,
            )
            rows.append((label, r))
        without = [r["close"] for label, r in rows if label == "without accrual"]
        with_ = [r["close"] for label, r in rows if label == "with accrual"]
        post = [r["jobs"].get("利息计提入账", 0.0) for label, r in rows if label == "with accrual"]
        base, acc = statistics.median(without), statistics.median(with_)
        added = (acc - base) / base * 100
        print()
        print(
            f"{args.loans:,} loans, chunk {args.chunk_size}, {args.rounds} round(s), "
            f"business date {BUSINESS_DATE} (normal day)"
        )
        print()
        print("| close of business (chunks) | runs | median | min |")
        print("|---|---|---|---|")
        print(f"| without accrual | {without} | {base:.2f} s | {min(without):.2f} s |")
        print(f"| with accrual | {with_} | {acc:.2f} s | {min(with_):.2f} s |")
        print(f"| 利息计提入账 (after-close job) | {post} | {statistics.median(post):.2f} s | |")
        ok = added <= 30
        print(
            f"\naccrual adds {added:+.1f} % to the close (median; min vs min "
            f"{(min(with_) - min(without)) / min(without) * 100:+.1f} %): target ≤ 30 % "
            + ("✅" if ok else "❌")
        )
        return 0 if ok else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
