"""Admission + approval routing throughput through the service path (target ≥ 2,000 apps/s).

    .venv/bin/python -m bench.bench_origination [--count 5000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_orig \
        .venv/bin/python -m bench.bench_origination

Migrates a fresh database (see bench/bench_rules.py for the environment handling), creates
``--count`` applications over 500 enterprise customers (a fifth with registry/litigation pulls,
some with overdue loans absent — the query still runs), then per batch of 1,000 applications:
``admission.build_inputs`` (3 queries), ``evaluate_many("origination.admission")`` with the
evaluations recorded, and ``evaluate_many("approvals.route")`` over the passed ones —
``--repeat`` passes (3). In the same run it measures the floor (the same ZEN evaluations without
trace and without recording) and ``--single`` one-at-a-time ``evaluate()`` calls with recording
(p50/p95), and prints the CPU it ran on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from decimal import Decimal

from bench.bench_rules import _setup_env, cpu_model

TARGET = 2000.0
SINGLE_P50_MS = 2.0


def _route_input(app, grade: str) -> dict:
    return {
        "flow": "origination.application",
        "amount": app.amount.fen,
        "amount_yuan": app.amount.fen // 100,
        "months": app.months,
        "product": app.product_version.product.code,
        "risk_grade": grade,
        "branch": "",
    }


def make_applications(count: int, rng: random.Random) -> None:
    """500 enterprise customers (a fifth with registry/litigation pulls) and ``count``
    submitted applications over them (shared with bench_scorecard)."""
    from django.contrib.auth import get_user_model

    from credo.core.money import Money
    from credo.customers.models import Customer, ExternalProvider, ExternalPull
    from credo.lending.models import Product, ProductVersion
    from credo.origination.models import Application

    user = get_user_model().objects.create_user(username="bench", password="x" * 12)
    product = Product.objects.create(code="bench", name="经营贷")
    pv = ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("5000000"),
        min_months=3,
        max_months=60,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_installment",
    )
    customers = Customer.objects.bulk_create(
        [
            Customer(
                kind="enterprise",
                name=f"企业{i}",
                uscc=f"91BENCH{i:011d}",
                registered_capital=Money(rng.choice([100_000, 800_000, 5_000_000])),
                industry=rng.choice("CCFFFGIK"),
                founded_on=dt.date(rng.randint(2005, 2025), 1, 1),
                owner=user,
            )
            for i in range(500)
        ]
    )
    litigation = ExternalProvider.objects.create(
        name="bench-lit", kind="litigation", engine="simulated"
    )
    registry = ExternalProvider.objects.create(
        name="bench-reg", kind="registry", engine="simulated"
    )
    pulls = []
    for c in customers[::5]:
        pulls.append(
            ExternalPull(
                customer=c,
                provider=litigation,
                kind="litigation",
                requested_by=user,
                status="ok",
                parsed={"litigation_count": rng.randint(0, 4), "judgment_debtor": False},
            )
        )
        pulls.append(
            ExternalPull(
                customer=c,
                provider=registry,
                kind="registry",
                requested_by=user,
                status="ok",
                parsed={"registered_capital": "2000000", "founded_on": "2010-01-01"},
            )
        )
    ExternalPull.objects.bulk_create(pulls)
    Application.objects.bulk_create(
        [
            Application(
                number=f"B{i:08d}",
                customer=customers[i % len(customers)],
                product_version=pv,
                amount=Money(rng.choice([30_000, 200_000, 450_000, 1_200_000])),
                months=12,
                annual_rate=Decimal("10"),
                method="equal_installment",
                purpose="bench",
                owner=user,
                status="submitted",
            )
            for i in range(count)
        ],
        batch_size=1000,
    )


def _one_run(args, ids, rng):
    """One pass over every application: admission + routing with recording, then the floor."""
    from credo.origination import admission
    from credo.rules import engine
    from credo.rules.services import evaluate_many, published_version
    from credo.rules.services.evaluation import _compiled

    passed = 0
    phases = {"load": 0.0, "inputs": 0.0, "admission": 0.0, "routing": 0.0}
    floor_inputs: list[tuple[dict, dict | None]] = []
    started = time.perf_counter()
    for i in range(0, len(ids), args.batch):
        t0 = time.perf_counter()
        apps = list(admission.applications_for_evaluation(ids[i : i + args.batch]))
        t1 = time.perf_counter()
        inputs = admission.build_inputs(apps)
        t2 = time.perf_counter()
        decisions = evaluate_many(admission.KEY, list(zip(apps, inputs, strict=True)))
        t3 = time.perf_counter()
        routable = []
        for app, data, decision in zip(apps, inputs, decisions, strict=True):
            route = None
            if admission.passed_of(decision.result):
                route = _route_input(app, rng.choice("ABCDE"))
                routable.append((app, route))
            floor_inputs.append((data, route))
        evaluate_many("approvals.route", routable)
        t4 = time.perf_counter()
        for name, secs in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            phases[name] += secs
        passed += len(routable)
    seconds = time.perf_counter() - started
    adm = _compiled(published_version(admission.KEY))
    route = _compiled(published_version("approvals.route"))
    t0 = time.perf_counter()
    for data, route_data in floor_inputs:
        engine.run(adm, data, trace=False)
        if route_data is not None:
            engine.run(route, route_data, trace=False)
    floor_seconds = time.perf_counter() - t0
    return len(ids) / seconds, seconds, passed, phases, len(ids) / floor_seconds


def _single_evaluations(ids):
    """``evaluate()`` one application at a time, recorded (what a submission does)."""
    import statistics

    from credo.origination import admission
    from credo.rules.services import evaluate

    apps = list(admission.applications_for_evaluation(ids))
    inputs = admission.build_inputs(apps)
    times = []
    for app, data in zip(apps, inputs, strict=True):
        t0 = time.perf_counter()
        evaluate(admission.KEY, data, subject=app)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="applications")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the same apps")
    parser.add_argument("--single", type=int, default=1000, help="single evaluate() calls")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    url, cleanup = _setup_env(os.environ.get("DATABASE_URL"))
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        print(f"database: {connection.vendor} ({url.split('@')[-1]})", flush=True)
        call_command("migrate", verbosity=0)
        from credo.origination import admission
        from credo.origination.models import Application
        from credo.rules.services import published_version

        rng = random.Random(5)  # noqa: S311 — benchmark data
        make_applications(args.count, rng)
        published_version(admission.KEY)
        published_version("approvals.route")
        ids = list(Application.objects.order_by("id").values_list("id", flat=True))
        print(f"cpu: {cpu_model()}", flush=True)
        rates = []
        for run in range(args.repeat):
            rate, seconds, passed, phases, floor = _one_run(args, ids, random.Random(run))
            rates.append(rate)
            print(
                f"  run {run + 1}: {rate:,.0f} applications/s ({seconds:.2f} s), floor "
                f"{floor:,.0f}/s — " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()),
                flush=True,
            )
        p50, p95 = _single_evaluations(ids[: args.single])
        best = max(rates)
        mark = "✅" if min(rates) >= TARGET else "❌"
        print()
        print(f"CPU: {cpu_model()}")
        print()
        print("| measurement | result | target |")
        print("|---|---|---|")
        print(
            f"| admission + routing, {len(ids):,} applications (batches of {args.batch:,}, "
            f"evaluations recorded with matched rows; {passed:,} passed admission), "
            f"{args.repeat} runs | {' / '.join(f'{r:,.0f}' for r in rates)} applications/s "
            f"| ≥ {TARGET:,.0f}/s {mark} |"
        )
        print(
            f"| floor: the same ZEN evaluations, no trace, nothing recorded | {floor:,.0f} "
            f"applications/s (best run at {best / floor:.2f}× of it) | — |"
        )
        single_mark = "✅" if p50 <= SINGLE_P50_MS else "❌"
        print(
            f"| one `evaluate()` of a published model incl. recording, {args.single:,} calls "
            f"| p50 {p50:.2f} ms, p95 {p95:.2f} ms | p50 ≤ {SINGLE_P50_MS:g} ms {single_mark} |"
        )
        return 0 if min(rates) >= TARGET and p50 <= SINGLE_P50_MS else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
