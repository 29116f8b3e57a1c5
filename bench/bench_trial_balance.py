"""Trial balance (科目余额表) of a month at book scale (issue 20), PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_tb \\
        .venv/bin/python -m bench.bench_trial_balance [--loans 100000] [--keep]

Sets its own environment and migrates a fresh database (dropped/created; dropped at the end
unless ``--keep``). Generates in SQL (``INSERT … SELECT generate_series``) N loans (copies of
one template loan, so new loan columns need no change here) and their journal: a disbursement
entry per loan in 2026-09 (2 lines) and a repayment entry per loan in 2026-10 (3 lines:
银行存款 / 贷款本金 / 利息收入), spread over the days of each month — ≈5 N lines, 3 N of them
in the measured month 2026-10. Then, medians of 5 runs after a warm-up:

* **floor** — a plain ``SELECT account_id, SUM(debit), SUM(credit) … GROUP BY account_id``
  over exactly the month's lines (by their id range: no join, no date filter);
* **floor + date** — the same aggregate selecting the month by ``business_date`` (the join to
  the entries every date-based query needs);
* **TB computed, nothing closed** — ``trial_balance(2026-10)``: the month plus every earlier
  line for the opening balances;
* **TB computed, previous month closed** — after ``period_close(2026-09)`` (also timed): the
  opening balances come from September's stored closing balances, only October's lines are
  read;
* **TB of a closed month** — after ``period_close(2026-10)``: read from the stored balances.

Target: the month's trial balance < 2 s at 1,000,000 loans (``--loans 1000000``). Exit 1 when
the computed trial balance with the previous month closed misses the target scaled by N.
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
PREV = dt.date(2026, 9, 1)
TARGET_S_PER_MILLION = 2.0


def _timed(fn: Callable[[], Any], repeat: int = 5) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def _generate(n: int) -> tuple[int, int]:
    """Loans and journal; returns the id range of October's lines."""
    from decimal import Decimal

    from django.db import connection

    from credo.accounts.models import OrgUnit, User
    from credo.core.money import Money
    from credo.customers.models import Customer
    from credo.lending import ledger
    from credo.lending.models import Loan, Product, ProductVersion

    hq = OrgUnit.objects.create(code="tb-hq", name="总部", kind="head_office")
    owner = User.objects.create(username="tb-am", display_name="经理", org_unit=hq)
    customer = Customer.objects.create(kind="enterprise", name="基准测试企业", owner=owner)
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
    template = Loan.objects.create(
        number="T000000000",
        customer=customer,
        product_version=pv,
        principal=Money.from_fen(1200000),
        annual_rate=Decimal("12"),
        months=24,
        method="equal_principal",
        penalty_multiplier=Decimal("1.5"),
        status="active",
        start_date=dt.date(2026, 9, 1),
        outstanding_principal=Money.from_fen(1150000),
        owner=owner,
        created_by=owner,
    )
    cols = [f.column for f in Loan._meta.concrete_fields if f.column not in ("id", "number")]
    ids = ledger.account_ids(["cash", "loan_principal", "interest_income"])
    t = time.perf_counter()
    with connection.cursor() as cur:
        collist = ", ".join(cols)
        cur.execute(
            f"INSERT INTO lending_loan (number, {collist}) "  # noqa: S608 - model columns
            f"SELECT 'B' || lpad(i::text, 9, '0'), {collist} "
            "FROM lending_loan t CROSS JOIN generate_series(1, %s) AS i WHERE t.id = %s",
            [n, template.pk],
        )
        print(f"  {n:,} loans inserted in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        for kind, first_day, memo in (
            ("disbursement", PREV, "放款"),
            ("repayment", MONTH, "还款"),
        ):
            cur.execute(
                """
                INSERT INTO lending_journalentry (kind, loan_id, business_date, memo, created_at)
                SELECT %s, id, %s::date + (id %% 28)::int, %s, now()
                FROM lending_loan WHERE number LIKE 'B%%' ORDER BY id
                """,
                [kind, first_day, memo],
            )
        cur.execute("SELECT max(id) FROM lending_journalline")
        cur.execute(
            """
            INSERT INTO lending_journalline (entry_id, account_id, loan_id, debit, credit)
            SELECT e.id, a.account_id, e.loan_id, a.debit, a.credit
            FROM lending_journalentry e
            CROSS JOIN LATERAL (VALUES (%(p)s, 1200000, 0), (%(c)s, 0, 1200000)) a
                (account_id, debit, credit)
            WHERE e.kind = 'disbursement' ORDER BY e.id
            """,
            {"p": ids["loan_principal"], "c": ids["cash"]},
        )
        cur.execute("SELECT coalesce(max(id), 0) FROM lending_journalline")
        first_oct = cur.fetchone()[0] + 1
        cur.execute(
            """
            INSERT INTO lending_journalline (entry_id, account_id, loan_id, debit, credit)
            SELECT e.id, a.account_id, e.loan_id, a.debit, a.credit
            FROM lending_journalentry e
            CROSS JOIN LATERAL (VALUES (%(c)s, 62000 + e.loan_id %% 1000, 0),
                                       (%(p)s, 0, 50000),
                                       (%(i)s, 0, 12000 + e.loan_id %% 1000)) a
                (account_id, debit, credit)
            WHERE e.kind = 'repayment' ORDER BY e.id
            """,
            {"p": ids["loan_principal"], "c": ids["cash"], "i": ids["interest_income"]},
        )
        cur.execute("SELECT max(id) FROM lending_journalline")
        last_oct = cur.fetchone()[0]
        print(
            f"  {2 * n:,} entries, {5 * n:,} lines inserted in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
    t = time.perf_counter()
    # VACUUM cannot run in a transaction block: autocommit connection
    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE lending_journalentry")
        cur.execute("VACUUM ANALYZE lending_journalline")
        cur.execute("ANALYZE lending_loan")
    print(f"  vacuum/analyze in {time.perf_counter() - t:.1f} s", flush=True)
    return first_oct, last_oct


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    import os

    url, cleanup = _setup_env(os.environ.get("DATABASE_URL"))
    if not url.startswith("postgres"):
        print("bench_trial_balance needs PostgreSQL (DATABASE_URL=postgres://…)")
        return 2
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    try:
        first, last = _generate(args.loans)
        from credo.accounts.models import User
        from credo.lending.books import selectors, services
        from credo.lending.models import EodRun

        user = User.objects.create(username="tb-finance", display_name="财务", is_superuser=True)
        for day in (dt.date(2026, 9, 30), dt.date(2026, 10, 31)):
            EodRun.objects.create(business_date=day, status="done")

        def floor() -> None:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT account_id, sum(debit), sum(credit) FROM lending_journalline "
                    "WHERE id BETWEEN %s AND %s GROUP BY account_id",
                    [first, last],
                )
                cur.fetchall()

        def floor_date() -> None:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT l.account_id, sum(l.debit), sum(l.credit) "
                    "FROM lending_journalline l JOIN lending_journalentry e ON e.id = l.entry_id "
                    "WHERE e.business_date BETWEEN %s AND %s GROUP BY l.account_id",
                    [MONTH, selectors.month_end(MONTH)],
                )
                cur.fetchall()

        def tb() -> Any:
            result = selectors.trial_balance(MONTH)
            assert result.balanced
            return result

        def one_posting() -> None:
            # a balanced entry dated in the month: its day's totals go stale
            with connection.cursor() as cur:
                cur.execute(
                    "INSERT INTO lending_journalentry (kind, loan_id, business_date, memo, "
                    "created_at) SELECT 'repayment', min(id), %s, 'bench', now() "
                    "FROM lending_loan RETURNING id, loan_id",
                    [dt.date(2026, 10, 15)],
                )
                entry, loan = cur.fetchone()
                cur.execute(
                    "INSERT INTO lending_journalline (entry_id, account_id, loan_id, debit, "
                    "credit) SELECT %s, id, %s, CASE WHEN code = 'cash' THEN 100 ELSE 0 END, "
                    "CASE WHEN code = 'cash' THEN 0 ELSE 100 END FROM lending_ledgeraccount "
                    "WHERE code IN ('cash', 'interest_income')",
                    [entry, loan],
                )

        def stale_day() -> None:
            one_posting()
            tb()

        rows: list[tuple[str, float]] = []
        rows.append(
            ("floor: SUM … GROUP BY account over the month's lines (id range)", _timed(floor))
        )
        rows.append(("floor + date: the same selected by business_date (join)", _timed(floor_date)))
        t = time.perf_counter()
        tb()
        rows.append(
            (
                "trial balance, first call: day totals built for the whole book",
                time.perf_counter() - t,
            )
        )
        rows.append(("trial balance, nothing closed (day totals current)", _timed(tb)))
        rows.append(
            (
                "trial balance after a new posting in the month (one day recomputed, incl. the insert)",
                _timed(stale_day),
            )
        )
        t = time.perf_counter()
        services.period_close(month=PREV, actor=user)
        rows.append(("period_close(2026-09) (once)", time.perf_counter() - t))
        computed = _timed(tb)
        rows.append(("trial balance, previous month closed", computed))
        t = time.perf_counter()
        services.period_close(month=MONTH, actor=user)
        rows.append(("period_close(2026-10) (once)", time.perf_counter() - t))
        result = tb()
        assert result.source == "stored"
        rows.append(("trial balance of the closed month (stored)", _timed(tb)))
        t = time.perf_counter()
        from credo.lending.books.checks import period_problems

        problems = period_problems()
        rows.append(
            (
                "verify: debits = credits per month + closed months unchanged",
                time.perf_counter() - t,
            )
        )
        assert not problems, problems[:3]
        target = TARGET_S_PER_MILLION * max(args.loans, 1) / 1_000_000
        print()
        print(
            f"Trial balance of 2026-10, {args.loans:,} loans, {last - first + 1:,} lines "
            f"in the month ({5 * args.loans:,} in the book)"
        )
        print()
        print("| measurement | seconds |")
        print("|---|---|")
        for label, secs in rows:
            print(f"| {label} | {secs:.3f} |")
        print()
        print(
            f"target (scaled): < {target:.2f} s for the computed month; "
            f"{'OK' if computed < target else 'MISSED'}"
        )
        return 0 if computed < target else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
