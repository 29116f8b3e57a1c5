"""Collections after-close benchmark (set-based case batch + bulk reminders), PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_collections \\
        .venv/bin/python -m bench.bench_collections --loans 100000

Generates N loans with 24 installments each via ``bench.bench_eod._generate`` (every 20th loan
overdue), gives the overdue loans a spread of DPD (1–45) and distinct amounts (so the strategy
memo does not hide the per-loan rule evaluation), creates 6 junior + 3 senior collectors, then:

* **cold start** — ``cases_refresh`` opens a case for every overdue loan (yesterday's state);
* **overdue day** (the measured step) — ``--new-overdue`` active loans (default 3 % of the book,
  ≈3,000 of 100,000) turn overdue with DPD 1, the overdue loans age a day (bucket crossings
  re-tier) and 0.5 % are cured; ``cases_refresh`` opens, re-tiers and closes cases, queues the
  SMS tier's messages through ``notify_many`` and upserts the call todos;
* **floor** — in the same run, the bulk inserts of the very rows the overdue day wrote (cases,
  timeline events, outbox messages, todos, letters: ``bulk_create`` of copies, rolled back);
* a **re-run** of the overdue day (idempotent: nothing opened, re-tiered, closed or sent);
* **reminders** — ``reminders_run`` for the day (selection, ReminderLog, ``notify_many`` in
  batches of 2,000) and its floor (bulk insert of the same ReminderLog + Message rows).

The book has 200 customers (``bench_eod``'s generator), so most messages of a day meet the
collection daily cap and are suppressed — the suppression path is part of what is measured.

Targets: overdue day ≤ 3× its floor and < 5 s per 100,000 loans; reminders ≤ 3× their floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from typing import Any

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


def _overdue_day(new_overdue: int, cure_share: int = 200) -> tuple[int, int]:
    """The next day: ``new_overdue`` active loans fall overdue (their next installment unpaid,
    DPD 1), the overdue ones age a day, every ``cure_share``-th is cured."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "UPDATE lending_loan SET dpd = 0, status = 'active' "
            "WHERE status = 'overdue' AND id %% %s = 0",
            [cure_share],
        )
        cured = cur.rowcount
        cur.execute("UPDATE lending_loan SET dpd = dpd + 1 WHERE status = 'overdue'")
        cur.execute(
            "CREATE TEMP TABLE _new_overdue AS SELECT id FROM lending_loan "
            "WHERE status = 'active' AND dpd = 0 ORDER BY (id * 7919) %% 100003 LIMIT %s",
            [new_overdue],
        )
        cur.execute(
            "UPDATE lending_loan SET status = 'overdue', dpd = 1 "
            "WHERE id IN (SELECT id FROM _new_overdue)"
        )
        turned = cur.rowcount
        cur.execute(
            "UPDATE lending_installment i SET status = 'overdue' FROM ("
            "  SELECT loan_id, min(period) AS p FROM lending_installment "
            "  WHERE status = 'scheduled' AND loan_id IN (SELECT id FROM _new_overdue) "
            "  GROUP BY loan_id) n WHERE i.loan_id = n.loan_id AND i.period = n.p"
        )
        cur.execute("DROP TABLE _new_overdue")
        cur.execute("ANALYZE lending_loan")
    return turned, cured


def _maxima() -> dict[str, int]:
    from django.db.models import Max

    from credo.collections.models import CollectionCase, LawyerLetter, ReminderLog
    from credo.core.todo.models import Todo
    from credo.customers.models import CustomerEvent
    from credo.notify.models import Message

    return {
        m.__name__: m.objects.aggregate(m=Max("id"))["m"] or 0
        for m in (CollectionCase, CustomerEvent, Message, Todo, LawyerLetter, ReminderLog)
    }


def _floor(since: dict[str, int]) -> tuple[float, dict[str, int]]:
    """Bulk-insert copies of every row written since ``since`` (rolled back): the floor."""
    from django.db import transaction

    from credo.collections.models import CollectionCase, LawyerLetter, ReminderLog
    from credo.core.todo.models import Todo
    from credo.customers.models import CustomerEvent
    from credo.notify.models import Message

    copies: dict[Any, list[Any]] = {}
    for model in (CollectionCase, CustomerEvent, Message, Todo, LawyerLetter, ReminderLog):
        rows = list(model.objects.filter(id__gt=since[model.__name__]))
        for row in rows:
            row.pk = None
            if model is CollectionCase:
                row.status = "closed"  # a throwaway copy (rolled back) next to the open case
            if hasattr(row, "dedupe_key"):
                row.dedupe_key = None
            if model is ReminderLog:
                row.offset = row.offset + 100  # stays unique next to the original
        copies[model] = rows
    t = time.perf_counter()
    with transaction.atomic():
        for model, rows in copies.items():
            model.objects.bulk_create(rows, batch_size=2000)
        elapsed = time.perf_counter() - t
        transaction.set_rollback(True)
    return elapsed, {m.__name__: len(r) for m, r in copies.items() if r}


def _shown(secs: float) -> str:
    return f"{secs * 1000:.0f} ms" if secs < 1 else f"{secs:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--new-overdue", type=int, default=None, help="default: 3 %% of --loans")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--profile", action="store_true", help="cProfile the overdue day")
    args = parser.parse_args(argv)
    new_overdue = args.new_overdue if args.new_overdue is not None else args.loans * 3 // 100
    book = setup_book("bench_collections", args.loans)
    if book is None:
        return 2
    url, cleanup = book
    try:
        from django.db import connection

        from credo.collections import services
        from credo.collections.models import CollectionCase
        from credo.lending.models import Loan

        t = time.perf_counter()
        _collectors()
        _spread()
        print(f"  collectors + DPD spread in {time.perf_counter() - t:.1f} s", flush=True)
        rows: list[tuple[str, float, str]] = []

        t = time.perf_counter()
        c0 = services.cases_refresh(BUSINESS_DATE)
        rows.append(("cold start: open a case per overdue loan", time.perf_counter() - t, ""))
        rows[-1] = (rows[-1][0], rows[-1][1], f"{c0['opened']:,} opened")
        print(f"  cold start {_shown(rows[-1][1])} {c0}", flush=True)

        turned, cured = _overdue_day(new_overdue)
        day = BUSINESS_DATE + dt.timedelta(days=1)
        since = _maxima()
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t = time.perf_counter()
        c1 = services.cases_refresh(day)
        batch = time.perf_counter() - t
        if profiler is not None:
            import pstats

            profiler.disable()
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats("credo/(collections|notify|rules|customers|core)", 40)
        print(f"  overdue day {_shown(batch)} {c1}", flush=True)
        floor, written = _floor(since)
        print(f"  floor {_shown(floor)} {written}", flush=True)
        rows.append(
            (
                "**overdue day: cases_refresh**",
                batch,
                f"{turned:,} turned overdue, {cured:,} cured: {c1['opened']:,} opened, "
                f"{c1['retiered']:,} re-tiered, {c1['closed']:,} closed, "
                f"{c1['updated']:,} updated; messages {c1['messages_queued']:,} queued / "
                f"{c1['messages_suppressed']:,} suppressed; {c1['todos_created']:,} todos, "
                f"{c1['letters_created']:,} letters",
            )
        )
        rows.append(
            (
                "floor: bulk insert of the same rows",
                floor,
                ", ".join(f"{n:,} {m}" for m, n in written.items()),
            )
        )

        t = time.perf_counter()
        c2 = services.cases_refresh(day)
        rows.append(
            (
                "overdue day re-run (idempotent)",
                time.perf_counter() - t,
                f"opened {c2['opened']}, re-tiered {c2['retiered']}, closed {c2['closed']}, "
                f"messages {c2['messages_queued']}",
            )
        )
        assert c2["opened"] == c2["retiered"] == c2["closed"] == c2["messages_queued"] == 0, c2

        since = _maxima()
        t = time.perf_counter()
        r = services.reminders_run(day)
        rem = time.perf_counter() - t
        rem_floor, rem_written = _floor(since)
        rate = r["logged"] / rem if rem else 0
        rows.append(
            (
                "reminders_run (selection + log + notify_many)",
                rem,
                f"{r['logged']:,} reminders, {r['messages_queued']:,} queued / "
                f"{r['messages_suppressed']:,} suppressed ({rate:,.0f}/s)",
            )
        )
        rows.append(
            (
                "reminders floor: bulk insert of the same rows",
                rem_floor,
                ", ".join(f"{n:,} {m}" for m, n in rem_written.items()),
            )
        )

        ratio = batch / floor if floor else float("inf")
        rem_ratio = rem / rem_floor if rem_floor else float("inf")
        target = 5 * max(1, args.loans / 100_000)
        print()
        print(
            f"Database: {connection.vendor}; {args.loans:,} loans, "
            f"{Loan.objects.filter(status='overdue').count():,} overdue, "
            f"{CollectionCase.objects.exclude(status='closed').count():,} open cases"
        )
        print()
        print("| Step | Time | Detail |")
        print("|---|---|---|")
        for name, secs, detail in rows:
            print(f"| {name} | {_shown(secs)} | {detail} |")
        ok_day = batch < target and ratio <= 3
        ok_rem = rem_ratio <= 3
        print(
            f"| **overdue day / floor** | **{ratio:.2f}×** | target ≤ 3× and < {target:g} s "
            f"{'✅' if ok_day else '❌'} |"
        )
        print(
            f"| **reminders / floor** | **{rem_ratio:.2f}×** | target ≤ 3× "
            f"{'✅' if ok_rem else '❌'} |"
        )
        return 0 if ok_day and ok_rem else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
