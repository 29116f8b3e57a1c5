"""Nightly monitoring benchmark (indicators + rules + alerts + retention), PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_monitoring \\
        .venv/bin/python -m bench.bench_monitoring --loans 100000

Generates the same book as ``bench_eod`` (N loans × 24 installments, every 20th loan with two
overdue installments) and times ``run_monitoring(2026-06-15)`` twice: the first run creates
the alerts (≈5 % of the loans hit ``dpd_30`` / ``no_payment_45`` …), the second is the steady
state (the same alerts are still open: nothing created). Target: < 60 s for 100,000 loans.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.bench_eod import BUSINESS_DATE, setup_book


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--profile", action="store_true", help="cProfile the first run")
    args = parser.parse_args(argv)
    book = setup_book("bench_monitoring", args.loans)
    if book is None:
        return 2
    url, cleanup = book
    try:
        from django.db import connection

        from credo.accounts.models import OrgUnit, Role, User
        from credo.monitoring.batch import run_monitoring
        from credo.monitoring.models import Alert, LoanIndicator

        rm = User.objects.create(
            username="bench-rm", display_name="风险经理", org_unit=OrgUnit.objects.first()
        )
        role, _ = Role.objects.get_or_create(code="risk_manager", defaults={"name": "风险经理"})
        rm.roles.add(role)
        rows = []
        for label in ("first run (alerts created)", "second run (steady state)"):
            profiler = None
            if args.profile and not rows:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            t = time.perf_counter()
            counts = run_monitoring(BUSINESS_DATE)
            elapsed = time.perf_counter() - t
            if profiler is not None:
                import pstats

                profiler.disable()
                stats = pstats.Stats(profiler).sort_stats("cumulative")
                stats.print_stats("credo/|django/db/models/query.py", 45)
            print(f"  {label}: {elapsed:.2f} s {counts}", flush=True)
            rows.append((label, elapsed, counts))
        target = 60 * max(1, args.loans / 100_000)
        print()
        print(
            f"Database: {connection.vendor}; {args.loans:,} loans; "
            f"{LoanIndicator.objects.count():,} indicator rows; "
            f"{Alert.objects.count():,} alerts"
        )
        print()
        print("| Run | Time | Alerts created | Target | |")
        print("|---|---|---|---|---|")
        ok = True
        for label, elapsed, counts in rows:
            passed = elapsed < target
            ok = ok and passed
            print(
                f"| {label} | {elapsed:.2f} s | {counts.get('alerts_created', 0):,} | "
                f"< {target:g} s | {'✅' if passed else '❌'} |"
            )
        return 0 if ok else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
