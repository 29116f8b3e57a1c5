"""Scoring throughput through the service (target ≥ 5,000 applications/s).

    .venv/bin/python -m bench.bench_scorecard [--count 20000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_sc \
        .venv/bin/python -m bench.bench_scorecard

Migrates a fresh database (see bench/bench_rules.py), creates the applications of
bench_origination (500 enterprise customers, a fifth with registry/litigation pulls), trains and
publishes a scorecard on the demo's synthetic history, then scores every application through
``scorecard.services.score_applications`` in batches: feature building (admission inputs +
terms, 4 queries per batch), the points lookup and the stored ``ApplicationScore`` rows.
Training time on 100,000 × 30 is measured by bench/bench_scorecard_train.py.
"""

from __future__ import annotations

import argparse
import os
import random
import time

from bench.bench_origination import make_applications
from bench.bench_rules import _setup_env

TARGET = 5000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000, help="applications")
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
        from credo.customers.models import Customer
        from credo.origination.models import Application
        from credo.scorecard import demo, features, services
        from credo.scorecard.models import ApplicationScore

        rng = random.Random(5)  # noqa: S311 — benchmark data
        make_applications(args.count, rng)
        customers = list(Customer.objects.all())
        columns, target = demo.synthetic_history(customers, n=6000)
        t0 = time.perf_counter()
        card = services.scorecard_train_table(
            actor=None, columns=columns, target=target, source_name="bench"
        )
        train_s = time.perf_counter() - t0
        services.scorecard_publish(scorecard=card, actor=None)
        ids = list(Application.objects.order_by("id").values_list("id", flat=True))
        started = time.perf_counter()
        for i in range(0, len(ids), args.batch):
            apps = list(features.applications_for_scoring(ids[i : i + args.batch]))
            services.score_applications(apps)
        seconds = time.perf_counter() - started
        stored = ApplicationScore.objects.count()
        assert stored == len(ids), (stored, len(ids))
        rate = len(ids) / seconds
        mark = "✅" if rate >= TARGET else "❌"
        print()
        print("| measurement | result | target |")
        print("|---|---|---|")
        print(
            f"| scoring through the service, {len(ids):,} applications (batches of "
            f"{args.batch:,}, {card.feature_count} features, scores stored) | {rate:,.0f} "
            f"applications/s ({seconds:.2f} s) | ≥ {TARGET:,.0f}/s {mark} |"
        )
        print(
            f"| training on the demo history ({card.rows:,} rows) | {train_s:.2f} s, holdout "
            f"AUC {card.auc:.3f} | — |"
        )
        return 0 if rate >= TARGET else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
