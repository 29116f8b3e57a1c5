"""Collections after-EOD benchmark, PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_collections \\
        .venv/bin/python -m bench.bench_collections --loans 100000

Generates N loans with 24 installments each via ``bench.bench_eod._generate`` (≈5 % overdue),
gives the overdue loans a spread of DPD (1–45) and distinct amounts (so the strategy memo does
not hide the per-loan rule evaluation), creates 6 junior + 3 senior collectors, then times:

* day 1 ``cases_refresh``: every overdue loan opens a case (strategy, assignment by workload,
  timeline events, tier actions: automatic SMS through notify, call todos, letter rows);
* day 2 ``cases_refresh``: DPD + 1 (bucket crossings re-tier), 10 % of the overdue loans cured
  (cases closed);
* a re-run of day 2 (idempotent: nothing changes);
* the reminders selection for the day (set-based ``reminders_due``) and the ReminderLog insert
  (``reminders_send(send=False)``; the per-message notify cost is measured on 500 messages and
  extrapolated).

Target: after-EOD collections < 60 s for 100,000 active loans.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from bench.bench_eod import BUSINESS_DATE, setup_book


def _collectors() -> None:
    from credo.accounts.models import OrgUnit, Role, User

    team = OrgUnit.objects.create(code="c-team", name="催收组", kind="team")
    junior = Role.objects.get_or_create(code="collector_junior", defaults={"name": "初级催收"})[0]
    senior = Role.objects.get_or_create(
        code="collector_senior", defaults={"name": "高级催收", "data_scope": "team"}
    )[0]
    for i in range(6):
        User.objects.create(username=f"cj{i}", org_unit=team).roles.add(junior)
    for i in range(3):
        User.objects.create(username=f"cs{i}", org_unit=team).roles.add(senior)


def _spread() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "UPDATE lending_loan SET dpd = 1 + (id / 20) % 45, "
            "outstanding_principal = outstanding_principal + id % 9973 WHERE status = 'overdue'"
        )
        cur.execute("ANALYZE")


def _next_day(cure_share: int = 200) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "UPDATE lending_loan SET dpd = 0, status = 'active' "
            "WHERE status = 'overdue' AND id %% %s = 0",
            [cure_share],
        )
        cured = cur.rowcount
        cur.execute("UPDATE lending_loan SET dpd = dpd + 1 WHERE status = 'overdue'")
    return cured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    book = setup_book("bench_collections", args.loans)
    if book is None:
        return 2
    url, cleanup = book
    try:
        from django.db import connection

        from credo.collections import services
        from credo.collections.models import CollectionCase, ReminderLog
        from credo.lending.models import Loan

        t = time.perf_counter()
        _collectors()
        _spread()
        print(f"  generated in {time.perf_counter() - t:.1f} s", flush=True)
        overdue = Loan.objects.filter(status="overdue").count()
        rows: list[tuple[str, float, str]] = []

        t = time.perf_counter()
        c1 = services.cases_refresh(BUSINESS_DATE)
        rows.append(("day 1: open cases", time.perf_counter() - t, str(c1)))
        print(f"  day 1 {rows[-1][1]:.2f} s {c1}", flush=True)

        cured = _next_day()
        day2 = BUSINESS_DATE + dt.timedelta(days=1)
        t = time.perf_counter()
        c2 = services.cases_refresh(day2)
        rows.append(("day 2: re-tier + close", time.perf_counter() - t, str(c2)))
        print(f"  day 2 {rows[-1][1]:.2f} s {c2} (cured {cured})", flush=True)

        t = time.perf_counter()
        c3 = services.cases_refresh(day2)
        rows.append(("day 2 re-run (idempotent)", time.perf_counter() - t, str(c3)))
        assert c3["opened"] == c3["retiered"] == c3["closed"] == 0, c3

        t = time.perf_counter()
        pairs = services.reminders_due(day2)
        rows.append(("reminders selection", time.perf_counter() - t, f"{len(pairs):,} due"))
        t = time.perf_counter()
        logged = services.reminders_send(day2, send=False)
        rows.append(("reminders log insert", time.perf_counter() - t, f"{logged:,} logged"))
        # per-message cost of notify on a sample (offsets of tomorrow, not yet logged)
        sample = services.reminders_due(day2 + dt.timedelta(days=1))[:500]
        t = time.perf_counter()
        ReminderLog.objects.bulk_create(
            [ReminderLog(installment_id=i, offset=o, business_date=day2) for i, o in sample],
            ignore_conflicts=True,
        )
        from credo.lending.models import Installment

        insts = Installment.objects.select_related("loan__customer").in_bulk(
            [i for i, _o in sample]
        )
        for inst_id, offset in sample:
            inst = insts[inst_id]
            services._notify(
                template="collections.reminder",
                customer=inst.loan.customer,
                category="service",
                dedupe_key=f"reminder:{inst_id}:{offset}",
                context={
                    "name": inst.loan.customer.name,
                    "loan_number": inst.loan.number,
                    "period": inst.period,
                    "amount": "1.00",
                    "due_date": inst.due_date.isoformat(),
                },
            )
        per_msg = (time.perf_counter() - t) / max(1, len(sample))
        rows.append(
            (
                f"notify per reminder (sample {len(sample)})",
                per_msg,
                f"≈ {per_msg * len(pairs):.1f} s for the day's {len(pairs):,}",
            )
        )
        total = rows[1][1] + rows[3][1] + rows[4][1]
        print()
        print(
            f"Database: {connection.vendor}; {args.loans:,} loans, {overdue:,} overdue, "
            f"{CollectionCase.objects.count():,} cases"
        )
        print()
        print("| Step | Time | Detail |")
        print("|---|---|---|")
        for name, secs, detail in rows:
            shown = f"{secs * 1000:.2f} ms" if secs < 1 else f"{secs:.2f} s"
            print(f"| {name} | {shown} | {detail} |")
        target = 60 * max(1, args.loans / 100_000)
        ok = rows[0][1] < target and total < target
        print(
            f"| **after-EOD steady day (day 2 + reminders selection/log)** | **{total:.2f} s** | "
            f"target < {target:g} s {'✅' if ok else '❌'} |"
        )
        return 0 if ok else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
