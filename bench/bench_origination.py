"""Admission + approval routing throughput through the service path (target ≥ 2,000 apps/s).

    .venv/bin/python -m bench.bench_origination [--count 5000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_orig \
        .venv/bin/python -m bench.bench_origination

Migrates a fresh database (see bench/bench_rules.py for the environment handling), creates
``--count`` applications over 500 enterprise customers (a fifth with registry/litigation pulls,
some with overdue loans absent — the query still runs), then per batch of 1,000 applications:
``admission.build_inputs`` (3 queries), ``evaluate_many("origination.admission")`` with the
evaluations recorded, and ``evaluate_many("approvals.route")`` over the passed ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from decimal import Decimal

from bench.bench_rules import _setup_env

TARGET = 2000.0


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="applications")
    parser.add_argument("--batch", type=int, default=1000)
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
        from credo.rules.services import evaluate_many, published_version

        rng = random.Random(5)  # noqa: S311 — benchmark data
        make_applications(args.count, rng)
        published_version(admission.KEY)
        published_version("approvals.route")
        ids = list(Application.objects.order_by("id").values_list("id", flat=True))
        passed = 0
        phases = {"load": 0.0, "inputs": 0.0, "admission": 0.0, "routing": 0.0}
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
            for app, decision in zip(apps, decisions, strict=True):
                if admission.passed_of(decision.result):
                    routable.append(
                        (
                            app,
                            {
                                "flow": "origination.application",
                                "amount": app.amount.fen,
                                "amount_yuan": app.amount.fen // 100,
                                "months": app.months,
                                "product": app.product_version.product.code,
                                "risk_grade": rng.choice("ABCDE"),
                                "branch": "",
                            },
                        )
                    )
            evaluate_many("approvals.route", routable)
            t4 = time.perf_counter()
            for name, secs in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                phases[name] += secs
            passed += len(routable)
        seconds = time.perf_counter() - started
        rate = len(ids) / seconds
        mark = "✅" if rate >= TARGET else "❌"
        print()
        print("| measurement | result | target |")
        print("|---|---|---|")
        print(
            f"| admission + routing, {len(ids):,} applications (batches of {args.batch:,}, "
            f"evaluations recorded; {passed:,} passed admission) | {rate:,.0f} applications/s "
            f"({seconds:.2f} s) | ≥ {TARGET:,.0f}/s {mark} |"
        )
        print("| phases (s) | " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()) + " | — |")
        return 0 if rate >= TARGET else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
