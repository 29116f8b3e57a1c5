"""Value-dated replay of one loan: a 360-installment loan with 400 money events replayed from
its start to maturity (30 years of closes of business).

    .venv/bin/python -m bench.bench_replay [--repeat 20]

Columns (median of ``--repeat`` runs, one core, pure Python, no database):

* ``replay`` — :func:`credo.lending.replay.engine.replay`: every day's events applied and every
  day closed (due/overdue marking, credit, 罚息/复利, DPD, class), quiet stretches jumped;
* ``floor: allocation only`` — the same 400 events applied by the allocation alone, no close
  (the least any replay must do);
* ``day-by-day`` — the same replay closing each of the ~11,000 days one by one (the naive loop
  the fast path is property-tested against).

Target (issue 18): replay < 50 ms. Numbers on a shared, busy machine are indicative only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from decimal import Decimal

from credo.core.holidays import WorkingCalendar
from credo.lending.replay.engine import (
    LoanTerms,
    MoneyEvent,
    ScheduleRow,
    apply_naive,
    replay,
)

TARGET_MS = 50.0


def loan(seed: int = 7) -> tuple[LoanTerms, list[ScheduleRow], list[MoneyEvent], dt.date]:
    rng = random.Random(seed)  # noqa: S311 — benchmark inputs
    start = dt.date(2020, 1, 6)
    terms = LoanTerms(
        principal=360 * 300_000,
        annual_rate=Decimal("4.9"),
        start_date=start,
        grace_days=3,
        holiday_rule="defer_penalty",
    )
    schedule = []
    for k in range(360):
        m = start.month - 1 + k + 1
        due = dt.date(start.year + m // 12, m % 12 + 1, 6)
        schedule.append(ScheduleRow(k + 1, due, 300_000, 40_000, 0, id=k + 1))
    events = []
    day = start
    for k in range(400):  # roughly monthly, sometimes late, sometimes short
        day += dt.timedelta(days=rng.randint(20, 35))
        events.append(
            MoneyEvent(
                "repayment", day, id=k, amount=rng.choice([340_000, 340_000, 200_000, 500_000])
            )
        )
    return terms, schedule, events, schedule[-1].due_date + dt.timedelta(days=30)


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    terms, schedule, events, as_of = loan()
    cal = WorkingCalendar()
    fast = replay(terms, schedule, events, as_of, cal)
    slow = replay(terms, schedule, events, as_of, cal, day_by_day=True)
    assert fast.state == slow.state, "fast path differs from the day-by-day loop"
    rows = [
        (
            "replay (fast path)",
            timed(lambda: replay(terms, schedule, events, as_of, cal), args.repeat),
        ),
        (
            "floor: allocation only",
            timed(lambda: apply_naive(terms, schedule, events), args.repeat),
        ),
        (
            "day-by-day closes",
            timed(
                lambda: replay(terms, schedule, events, as_of, cal, day_by_day=True),
                max(1, args.repeat // 5),
            ),
        ),
    ]
    days = (as_of - terms.start_date).days
    print(f"one loan: 360 installments, {len(events)} events, {days} days (busy machine)")
    print(f"{'variant':<26}{'ms':>10}{'× floor':>10}")
    floor = rows[1][1]
    for name, ms in rows:
        print(f"{name:<26}{ms:>10.1f}{ms / floor:>10.1f}")
    verdict = "OK" if rows[0][1] < TARGET_MS else "OVER"
    print(f"target replay < {TARGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
