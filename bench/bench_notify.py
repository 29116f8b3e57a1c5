"""Bulk notifications benchmark: ``notify_many`` into the outbox vs its render + bulk-insert
floor, and the per-message ``notify()`` loop for a sample.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_notify \\
        .venv/bin/python -m bench.bench_notify --customers 20000 [--sample 500] [--keep]

Generates N customers (``credo.customers.demo.generate_customers``, bulk) and a template on the
SMS channel (the simulated provider), then sets up the guardrails so that suppressions happen:
every 40th customer opted out of 催收 messages, every 50th flagged 勿联系 (plus the generator's
own ~3 % risk flags), every 30th already at the daily cap (3 collection SMS in the outbox for
the day). Timed, in one run (medians of ``--repeat`` runs each):

* **floor** — for the same customers: render the template (compiled once) per customer and
  bulk-insert the ``Message`` rows (with their dedupe keys) and the timeline rows
  (``CustomerEvent``), in batches of 2,000, no guardrails, rolled back;
* **notify_many (collection)** — ``notify_many`` end to end into the outbox (each notice with
  a dedupe key, like the reminders), category
  ``collection`` (daily cap: preference rows locked, one grouped count per batch; quiet hours;
  do-not-contact; opt-out), batches of 2,000, committed; then deleted again (not timed);
* **notify_many (service)** — the same for category ``service`` (due-date reminders: no cap);
* **notify() per message** — the per-message call for ``--sample`` customers (the before
  figure: one transaction and the full query sequence per message).

The ratio is the median of each run's ratio to the floor measured just before it.
Targets (issue 19): ≥ 2,000 messages/s end to end and ≤ 1.5× the floor (both notify_many
runs); a 1,000,000-loan book's daily reminders < 90 s, extrapolated from the slower run: the
reminder offsets (3, 1, 0 days before the due date) of monthly installments give
1,000,000 × 3 / 30 = 100,000 messages a day (the issue's "~12 minutes" at 143–157/s).
The exit status is 1 when a target is missed. PostgreSQL only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from typing import Any
from zoneinfo import ZoneInfo

from bench.bench_customers import _setup_env

TEMPLATE = "bench.reminder"
# 1,000,000 loans × 3 reminder offsets / 30 days in a month.
DAILY_REMINDERS_1M = 1_000_000 * 3 // 30


def _setup(n: int) -> list[Any]:
    from django.db import connection

    from credo.accounts.models import OrgUnit, User
    from credo.customers.demo import generate_customers
    from credo.customers.models import Customer
    from credo.notify.models import Channel, NotifyPreference
    from credo.notify.services import register_template, template_get

    hq = OrgUnit.objects.create(code="n-hq", name="总部", kind="head_office")
    owner = User.objects.create(username="notify-am", display_name="经理", org_unit=hq)
    t = time.perf_counter()
    generate_customers(
        n, owners=[owner], seed=11, batch=2000, with_relations=False, events_per_customer=0
    )
    print(f"  generated {n:,} customers in {time.perf_counter() - t:.1f} s", flush=True)
    Channel.objects.create(name="模拟短信", engine="simulated", simulates=["sms"], is_default=True)
    register_template(
        TEMPLATE,
        name="还款提醒（基准）",
        subject="还款提醒",
        body=(
            "{{ name }}，您好：您的贷款 {{ loan_number }} 应还 {{ amount }} 元，"
            "还款日为 {{ due_date }}，请按时还款。"
        ),
        channels=["sms"],
    )
    template_get(TEMPLATE)
    ids = list(Customer.objects.order_by("id").values_list("id", flat=True))
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE customers_customer SET risk_flags = '[\"do_not_contact\"]'::jsonb "
            "WHERE id = ANY(%s)",
            [ids[::50]],
        )
        cur.execute("ANALYZE")
    NotifyPreference.objects.bulk_create(
        [NotifyPreference(customer_id=c, opted_out=["collection"]) for c in ids[::40]]
    )
    return list(Customer.objects.only("id", "name", "phone", "risk_flags").order_by("id"))


def _context(c: Any, i: int) -> dict[str, Any]:
    return {
        "name": c.name,
        "loan_number": f"L{i:08d}",
        "amount": f"{1000 + i % 977:,}.00",
        "due_date": "2026-06-18",
    }


def _at_cap(customers: list[Any], now: dt.datetime) -> None:
    """Every 30th customer already has the day's 3 collection SMS (so it meets the cap)."""
    from credo.notify.models import Message

    rows = [
        Message(
            template_code=TEMPLATE,
            kind="sms",
            category="collection",
            customer_id=c.pk,
            address="13900000000",
            address_masked="139****0000",
            body="earlier",
            status="sent",
            scheduled_at=now - dt.timedelta(hours=h),
            sent_at=now - dt.timedelta(hours=h),
            created_at=now - dt.timedelta(hours=h),
        )
        for c in customers[::30]
        for h in (1, 2, 3)
    ]
    Message.objects.bulk_create(rows, batch_size=2000)


def _floor(customers: list[Any], now: dt.datetime) -> float:
    """Render + bulk insert of the same Message and timeline rows, no guardrails, rolled back."""
    from django.db import transaction

    from credo.customers.models import CustomerEvent
    from credo.notify.models import Channel, Message
    from credo.notify.services import template_get
    from credo.notify.services.recipients import mask_address
    from credo.notify.services.templates import CompiledTemplate

    t = time.perf_counter()
    with transaction.atomic():
        tpl = template_get(TEMPLATE)
        compiled = CompiledTemplate(tpl.subject, tpl.body)
        channel = Channel.objects.get(engine="simulated")
        for start in range(0, len(customers), 2000):
            messages = []
            for i, c in enumerate(customers[start : start + 2000], start):
                ctx = _context(c, i)
                subject, body = compiled.render(ctx)
                address = (c.phone or "").strip()
                messages.append(
                    Message(
                        template_code=tpl.code,
                        kind="sms",
                        channel_id=channel.pk,
                        category="collection",
                        customer_id=c.pk,
                        address=address,
                        address_masked=mask_address("sms", address),
                        subject=subject,
                        body=body,
                        params=ctx,
                        dedupe_key=f"b:{c.pk}",
                        status="queued",
                        scheduled_at=now,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
            Message.objects.bulk_create(messages, batch_size=1000)
            CustomerEvent.objects.bulk_create(
                [
                    CustomerEvent(
                        customer_id=m.customer_id,
                        kind="collection",
                        title=f"短信：{m.subject}（排队中）",
                        detail={
                            "template": m.template_code,
                            "status": m.status,
                            "to": m.address_masked,
                            "reason": "",
                        },
                        source="notify",
                        object_type="notify.message",
                        object_id=str(m.pk),
                        occurred_at=now,
                    )
                    for m in messages
                ],
                batch_size=2000,
            )
        elapsed = time.perf_counter() - t
        transaction.set_rollback(True)
    return elapsed


def _bulk(customers: list[Any], now: dt.datetime, category: str) -> tuple[float, Any]:
    from credo.notify.services import Notice, notify_many

    notices = (
        Notice(template=TEMPLATE, context=_context(c, i), customer=c, dedupe_key=f"b:{c.pk}")
        for i, c in enumerate(customers)
    )
    t = time.perf_counter()
    result = notify_many(notices, category=category, now=now, batch_size=2000)
    return time.perf_counter() - t, result


def _per_message(customers: list[Any], now: dt.datetime, category: str) -> float:
    from credo.notify.services import notify

    t = time.perf_counter()
    for i, c in enumerate(customers):
        notify(template=TEMPLATE, context=_context(c, i), customer=c, category=category, now=now)
    return time.perf_counter() - t


def _cleanup(since: tuple[int, int]) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DELETE FROM customers_customerevent WHERE id > %s", [since[1]])
        cur.execute("DELETE FROM notify_message WHERE id > %s", [since[0]])
        cur.execute("DELETE FROM django_tasks_database_dbtaskresult")
        cur.execute("VACUUM ANALYZE notify_message")


def _maxima() -> tuple[int, int]:
    from django.db.models import Max

    from credo.customers.models import CustomerEvent
    from credo.notify.models import Message

    return (
        Message.objects.aggregate(m=Max("id"))["m"] or 0,
        CustomerEvent.objects.aggregate(m=Max("id"))["m"] or 0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one notify_many run and stop (no target)"
    )
    args = parser.parse_args(argv)
    db_url = os.environ.get("DATABASE_URL", "")
    if not db_url.startswith("postgres"):
        print("bench_notify needs DATABASE_URL=postgres://… (PostgreSQL only)")
        return 2
    url, cleanup = _setup_env(db_url)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        print(f"database: {connection.vendor} ({url.split('@')[-1]})", flush=True)
        call_command("migrate", verbosity=0)
        customers = _setup(args.customers)
        zone = ZoneInfo("Asia/Shanghai")
        now = dt.datetime.combine(dt.date.today(), dt.time(10), tzinfo=zone)  # outside quiet hours
        _at_cap(customers, now)
        n = len(customers)
        if args.profile:
            import cProfile
            import pstats

            for category in ("collection", "service"):
                since = _maxima()
                prof = cProfile.Profile()
                prof.enable()
                _bulk(customers, now, category)
                prof.disable()
                prof.dump_stats(f"/tmp/bench_notify_{category}.prof")
                _cleanup(since)
                print(f"--- notify_many ({category}) ---")
                pstats.Stats(prof).sort_stats(
                    os.environ.get("BENCH_SORT", "cumulative")
                ).print_stats(35)
            prof = cProfile.Profile()
            prof.enable()
            _floor(customers, now)
            prof.disable()
            print("--- floor ---")
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
            return 0
        floors, runs = [], {"collection": [], "service": []}
        results: dict[str, Any] = {}
        for r in range(args.repeat):
            floors.append(_floor(customers, now))
            for category in runs:
                since = _maxima()
                elapsed, result = _bulk(customers, now, category)
                runs[category].append(elapsed)
                results[category] = result
                _cleanup(since)
            print(
                f"  run {r + 1}: floor {floors[-1]:.2f} s, "
                + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in runs.items()),
                flush=True,
            )
        floor = statistics.median(floors)
        since = _maxima()
        sample = customers[: args.sample]
        per_message = _per_message(sample, now, "collection")
        _cleanup(since)
        ok = True
        floor_rate = n / floor
        print()
        print(f"{n:,} customers, batches of 2,000, medians of {args.repeat} runs")
        print()
        print("| path | seconds | messages/s | ratio to floor | target | |")
        print("|---|---|---|---|---|---|")
        print(
            f"| floor: render + bulk insert (messages + timeline) | {floor:.2f} | "
            f"{floor_rate:,.0f} | 1.0× | | |"
        )
        slowest = 0.0
        for category, samples in runs.items():
            t = statistics.median(samples)
            rate = n / t
            # paired: each run's ratio to the floor measured just before it (robust to load)
            ratio = statistics.median(x / f for x, f in zip(samples, floors, strict=True))
            good = rate >= 2000 and ratio <= 1.5
            ok = ok and good
            slowest = max(slowest, t / n)
            res = results[category]
            print(
                f"| notify_many ({category}) | {t:.2f} | {rate:,.0f} | {ratio:.2f}× | "
                f"≥ 2,000/s, ≤ 1.5× | {'✅' if good else '❌'} |"
            )
            print(
                f"|   ↳ created {res.created:,}: queued {res.queued:,}, suppressed "
                f"{res.suppressed:,} {res.suppressed_by_reason} | | | | | |"
            )
        pm_rate = len(sample) / per_message
        print(
            f"| notify() per message, {len(sample):,} sample | {per_message:.2f} | "
            f"{pm_rate:,.0f} | {(per_message / len(sample)) / (floor / n):.1f}× | | |"
        )
        million = slowest * DAILY_REMINDERS_1M
        good = million < 90
        ok = ok and good
        print(
            f"| 1M-loan book's daily reminders ({DAILY_REMINDERS_1M:,} messages, from the "
            "slower run) "
            f"| {million:.0f} | | | < 90 s | {'✅' if good else '❌'} |"
        )
        print()
        print(
            f"speed-up over the per-message path: {pm_rate and (n / statistics.median(runs['collection'])) / pm_rate:.1f}×"
        )
        return 0 if ok else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
