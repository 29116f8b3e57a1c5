"""Dashboard and standard-report benchmark (issue 7).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_reports \\
        .venv/bin/python -m bench.bench_reports --loans 1000000
    .venv/bin/python -m bench.bench_reports --loans 100000          # SQLite

PostgreSQL data comes from ``bench.bench_eod._generate`` (24 monthly installments per loan, ~5 %
overdue); SQLite data from a bulk_create generator with the same shape. After the close of
business for the business date (which writes the portfolio snapshot) and a back-fill of six
month ends (vintage / roll-rate history), it times, for a management user who sees everything:

* the management dashboard (every KPI for "this month" and the previous month, plus the 30-day
  trend) — the first call in a fresh database connection ("cold") and the median of 3 more;
* each standard report (first call and median).

Targets: dashboard < 1 s cold and each report < 2 s on PostgreSQL at 1,000,000 loans; < 3 s on
SQLite at 100,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.bench_customers import _setup_env

BUSINESS_DATE = dt.date(2026, 6, 15)


def _generate_sqlite(n: int) -> None:
    from decimal import Decimal

    from credo.accounts.models import OrgUnit, User
    from credo.core.money import Money
    from credo.customers.demo import generate_customers
    from credo.customers.models import Customer
    from credo.lending.models import EodRun, Installment, Loan, Product, ProductVersion

    hq = OrgUnit.objects.create(code="e-hq", name="总部", kind="head_office")
    owner = User.objects.create(username="eod-am", display_name="经理", org_unit=hq)
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
    prev = BUSINESS_DATE - dt.timedelta(days=1)
    from credo.reports.standard import add_months

    batch_l: list[Loan] = []
    for i in range(1, n + 1):
        start = BUSINESS_DATE - dt.timedelta(days=200 + i % 28)
        overdue = i % 20 == 0
        batch_l.append(
            Loan(
                number=f"B{i:09d}",
                customer_id=customers[i % len(customers)],
                product_version=pv,
                principal=Money.from_fen(1200000),
                annual_rate=Decimal(12),
                months=24,
                method="equal_principal",
                penalty_multiplier=Decimal("1.5"),
                allocation_order=["penalty", "fee", "interest", "principal"],
                status="overdue" if overdue else "active",
                start_date=start,
                maturity_date=add_months(start.replace(day=1), 24),
                owner=owner,
                created_by=owner,
                outstanding_principal=Money.from_fen(1200000),
                last_eod_date=prev,
            )
        )
        if len(batch_l) == 5000:
            Loan.objects.bulk_create(batch_l)
            batch_l = []
    Loan.objects.bulk_create(batch_l)
    rows: list[Installment] = []
    for loan_id, start, status in Loan.objects.values_list("id", "start_date", "status").iterator(
        chunk_size=5000
    ):
        paid_principal = 0
        oldest = None
        for p in range(1, 25):
            due = add_months(start.replace(day=1), p).replace(day=min(start.day, 28))
            paid = due < BUSINESS_DATE and not (
                status == "overdue" and due >= BUSINESS_DATE - dt.timedelta(days=65)
            )
            if not paid and due < BUSINESS_DATE and oldest is None:
                oldest = due
            paid_principal += 50000 if paid else 0
            rows.append(
                Installment(
                    loan_id=loan_id,
                    period=p,
                    due_date=due,
                    principal_due=Money.from_fen(50000),
                    interest_due=Money.from_fen(6000),
                    principal_paid=Money.from_fen(50000 if paid else 0),
                    interest_paid=Money.from_fen(6000 if paid else 0),
                    status="paid" if paid else ("overdue" if due < BUSINESS_DATE else "scheduled"),
                    paid_on=due if paid else None,
                )
            )
        Loan.objects.filter(pk=loan_id).update(
            outstanding_principal=1200000 - paid_principal,
            dpd=(prev - oldest).days if oldest else 0,
        )
        if len(rows) >= 20000:
            Installment.objects.bulk_create(rows)
            rows = []
    Installment.objects.bulk_create(rows)
    EodRun.objects.create(business_date=prev, status="done")


def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    from django.db import connections

    connections.close_all()  # a fresh connection: the "cold" first call
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    samples = []
    for _ in range(3):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return first, statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=6, help="month ends to back-fill")
    args = parser.parse_args(argv)
    url, cleanup = _setup_env(os.environ.get("DATABASE_URL"))
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from credo.accounts.models import Role, User
        from credo.lending.eod import run_eod
        from credo.reports import kpis, services, standard
        from credo.reports.datasets import run_query

        pg = connection.vendor == "postgresql"
        print(f"database: {connection.vendor}", flush=True)
        call_command("migrate", verbosity=0)
        t = time.perf_counter()
        if pg:
            from bench.bench_eod import _generate

            _generate(args.loans)
        else:
            _generate_sqlite(args.loans)
        print(f"  generated {args.loans:,} loans in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        run_eod(BUSINESS_DATE)  # writes today's snapshot through the done listener
        print(f"  EOD + snapshot in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        for i in range(args.months, 0, -1):
            standard.monthend_backfill(standard.add_months(BUSINESS_DATE.replace(day=1), -i))
        print(
            f"  {args.months} month ends back-filled in {time.perf_counter() - t:.1f} s", flush=True
        )
        if pg:
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
        role = Role.objects.create(code="bench-mgmt", name="报表基准（全部数据）", data_scope="all")
        from django.contrib.auth.models import Permission

        role.permissions.add(
            *Permission.objects.filter(codename__in=["view_loan", "view_customer"])
        )
        user = User.objects.create(username="bench-mgmt", display_name="行长")
        user.roles.add(role)
        user = User.objects.get(pk=user.pk)

        def dashboard() -> None:
            kpis.compute(user, "month", BUSINESS_DATE)
            services.trend(user, 30, BUSINESS_DATE)

        checks: list[tuple[str, Callable[[], Any], float]] = [
            ("管理层看板 dashboard", dashboard, 1.0)
        ]
        for key, d in standard.STANDARD_SPECS.items():
            if d.get("permission", "lending.view_loan") != "lending.view_loan":
                continue  # leads reports: no leads in this book
            checks.append(
                (f"{d['title']} ({key})", lambda spec=d["spec"]: run_query(user, spec), 2.0)
            )
        checks += [
            ("回款预测 forecast", lambda: standard.repayment_forecast(user, BUSINESS_DATE), 2.0),
            ("Vintage", lambda: standard.vintage(user), 2.0),
            ("迁徙率 roll rates", lambda: standard.roll_rates(user), 2.0),
            (
                "员工业绩 staff",
                lambda: standard.staff_performance(
                    user, BUSINESS_DATE.replace(day=1), BUSINESS_DATE
                ),
                2.0,
            ),
        ]
        if not pg:
            checks = [(n, f, 3.0) for n, f, _t in checks]
        print()
        print(f"Database: {connection.vendor}; {args.loans:,} loans")
        print()
        print("| Report | first call (cold) | median of 3 | target | |")
        print("|---|---|---|---|---|")
        ok = True
        for name, fn, target in checks:
            first, median = _timed(fn)
            passed = first < target
            ok = ok and passed
            print(
                f"| {name} | {first * 1000:.0f} ms | {median * 1000:.0f} ms | < {target:g} s | {'✅' if passed else '❌'} |",
                flush=True,
            )
        return 0 if ok else 1
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
