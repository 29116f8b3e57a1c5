"""Monthly loan-loss provision run (贷款损失准备) at book scale (issue 20), PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_provbench \\
        .venv/bin/python -m bench.bench_provisions [--loans 1000000] [--keep]

Sets its own environment and migrates a fresh database (dropped/created; dropped at the end
unless ``--keep``). Generates in SQL (``INSERT … SELECT generate_series``) N loans — copies of
one template loan, so new loan columns need no change here — over two products, with balances
of 10,000–19,990 yuan and the five classes 90 / 5 / 2 / 2 / 1 %; and the "tail" a run a few days
after the month end must undo: 1 % of the loans repaid principal on 2026-11-10 (a repayment
entry with a principal line each) and 0.5 % reclassified on 2026-11-05 (class history rows).
Then, for 2026-10 (the month-end close of business marked done):

* **floor** — a plain ``SELECT product_version_id, classification, count(*),
  sum(outstanding_principal) … GROUP BY`` over the same loans (median of 5 after a warm-up);
* **run** — ``provision_run(2026-10)``: month-end balances (grouped query + tail correction),
  required per product × class, the reserve's balance per product, the two entries, the run
  rows and the audit row (once: the first run of the month);
* **re-run** — the same month again: computes everything, finds no difference, posts nothing;
* **verify** — the provisions' part of ``credo ledger verify``.

Target: the monthly run < 60 s at 1,000,000 loans (``--loans 1000000``). Exit 1 when the run
misses the target scaled by N.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.bench_customers import _setup_env

MONTH = dt.date(2026, 10, 1)
MONTH_END = dt.date(2026, 10, 31)
TARGET_S_PER_MILLION = 60.0


def _timed(fn: Callable[[], Any], repeat: int = 5) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def _generate(n: int) -> None:
    from decimal import Decimal

    from django.db import connection

    from credo.accounts.models import OrgUnit, User
    from credo.core.money import Money
    from credo.customers.models import Customer
    from credo.lending import ledger
    from credo.lending.models import Loan, Product, ProductVersion

    hq = OrgUnit.objects.create(code="pv-hq", name="总部", kind="head_office")
    owner = User.objects.create(username="pv-am", display_name="经理", org_unit=hq)
    customer = Customer.objects.create(kind="enterprise", name="基准测试企业", owner=owner)
    versions = []
    for code, name in (("bench-a", "经营贷"), ("bench-b", "消费贷")):
        product = Product.objects.create(code=code, name=name)
        versions.append(
            ProductVersion.objects.create(
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
        )
    template = Loan.objects.create(
        number="T000000000",
        customer=customer,
        product_version=versions[0],
        principal=Money.from_fen(2000000),
        annual_rate=Decimal("12"),
        months=24,
        method="equal_principal",
        penalty_multiplier=Decimal("1.5"),
        status="active",
        start_date=dt.date(2026, 1, 1),
        outstanding_principal=Money.from_fen(1000000),
        owner=owner,
        created_by=owner,
    )
    varied = {
        "product_version_id": f"CASE WHEN i %% 2 = 0 THEN {versions[0].pk} ELSE {versions[1].pk} END",
        "classification": (
            "CASE WHEN i %% 100 < 90 THEN 'normal' WHEN i %% 100 < 95 THEN 'special_mention' "
            "WHEN i %% 100 < 97 THEN 'substandard' WHEN i %% 100 < 99 THEN 'doubtful' "
            "ELSE 'loss' END"
        ),
        "outstanding_principal": "1000000 + (i %% 1000) * 1000",
    }
    cols = [f.column for f in Loan._meta.concrete_fields if f.column not in ("id", "number")]
    select = ", ".join(varied.get(c, f"t.{c}") for c in cols)
    ids = ledger.account_ids(["cash", "loan_principal"])
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO lending_loan (number, {', '.join(cols)}) "  # noqa: S608 - model columns
            f"SELECT 'B' || lpad(i::text, 9, '0'), {select} "
            "FROM lending_loan t CROSS JOIN generate_series(1, %s) AS i WHERE t.id = %s",
            [n, template.pk],
        )
        cur.execute("DELETE FROM lending_loan WHERE id = %s", [template.pk])
        print(f"  {n:,} loans inserted in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        # the tail after the month end: 1 % repaid 500 yuan of principal on 2026-11-10 …
        cur.execute(
            """
            INSERT INTO lending_journalentry (kind, loan_id, business_date, memo, created_at)
            SELECT 'repayment', id, '2026-11-10', '还款', now() FROM lending_loan
            WHERE id % 100 = 7 ORDER BY id
            """
        )
        cur.execute(
            """
            INSERT INTO lending_journalline (entry_id, account_id, loan_id, debit, credit)
            SELECT e.id, a.account_id, e.loan_id, a.debit, a.credit
            FROM lending_journalentry e
            CROSS JOIN LATERAL (VALUES (%(c)s, 50000, 0), (%(p)s, 0, 50000)) a
                (account_id, debit, credit)
            WHERE e.kind = 'repayment' ORDER BY e.id
            """,
            {"p": ids["loan_principal"], "c": ids["cash"]},
        )
        cur.execute(
            "UPDATE lending_loan SET outstanding_principal = outstanding_principal - 50000 "
            "WHERE id % 100 = 7"
        )
        # … and 0.5 % were reclassified on 2026-11-05 (normal → special_mention)
        cur.execute(
            """
            INSERT INTO lending_loanclasshistory
                (loan_id, date, from_class, to_class, dpd, reason, created_at)
            SELECT id, '2026-11-05', classification, 'special_mention', 31, 'auto', now()
            FROM lending_loan WHERE id % 200 = 3 AND classification = 'normal'
            """
        )
        cur.execute(
            "UPDATE lending_loan SET classification = 'special_mention' "
            "WHERE id % 200 = 3 AND classification = 'normal'"
        )
        print(f"  tail after the month end in {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cur:
        for table in ("lending_loan", "lending_journalentry", "lending_journalline"):
            cur.execute(f"VACUUM ANALYZE {table}")
        cur.execute("ANALYZE lending_loanclasshistory")
    print(f"  vacuum/analyze in {time.perf_counter() - t:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    import os

    url, cleanup = _setup_env(os.environ.get("DATABASE_URL"))
    if not url.startswith("postgres"):
        print("bench_provisions needs PostgreSQL (DATABASE_URL=postgres://…)")
        return 2
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    try:
        _generate(args.loans)
        from credo.accounts.models import User
        from credo.lending.models import EodRun
        from credo.lending.provisions.checks import provision_problems
        from credo.lending.provisions.services import provision_run

        user = User.objects.create(username="pv-finance", display_name="财务", is_superuser=True)
        EodRun.objects.create(business_date=MONTH_END, status="done")

        def floor() -> None:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT product_version_id, classification, count(*), "
                    "sum(outstanding_principal) FROM lending_loan "
                    "WHERE outstanding_principal > 0 GROUP BY 1, 2"
                )
                cur.fetchall()

        rows: list[tuple[str, float]] = []
        floor_s = _timed(floor)
        rows.append(("floor: GROUP BY product version, class over the loans", floor_s))
        t = time.perf_counter()
        run, created = provision_run(month=MONTH, actor=user)
        run_s = time.perf_counter() - t
        assert created and run.loans == args.loans, (created, run.loans)
        rows.append(("provision_run(2026-10), first run (posts per product)", run_s))
        t = time.perf_counter()
        again, created = provision_run(month=MONTH, actor=user)
        rows.append(("re-run of the same month (nothing to post)", time.perf_counter() - t))
        assert not created and again.pk == run.pk
        t = time.perf_counter()
        problems = provision_problems()
        rows.append(("verify: the provisions' part", time.perf_counter() - t))
        assert not problems, problems[:3]
        target = TARGET_S_PER_MILLION * max(args.loans, 1) / 1_000_000
        print()
        print(
            f"Provision run of 2026-10, {args.loans:,} loans, balance "
            f"{run.balance.fen / 100:,.2f} yuan, required {run.required.fen / 100:,.2f} yuan"
        )
        print()
        print("| measurement | seconds |")
        print("|---|---|")
        for label, secs in rows:
            print(f"| {label} | {secs:.3f} |")
        print()
        print(f"run / floor: {run_s / floor_s:.1f}×")
        print(
            f"target (scaled): < {target:.2f} s for the run; {'OK' if run_s < target else 'MISSED'}"
        )
        return 0 if run_s < target else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
