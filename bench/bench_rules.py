"""Decision-model (ZEN JDM) throughput: evaluations per second and a 50,000-record simulation.

    .venv/bin/python -m bench.bench_rules [--count 5000] [--history 50000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_rules \
        .venv/bin/python -m bench.bench_rules

Sets its own environment (test keys, ``CREDO_ENVIRONMENT=test``) and migrates a fresh database
(a PostgreSQL database named in ``DATABASE_URL`` is dropped/created, and dropped at the end
unless ``--keep``; without ``DATABASE_URL`` a throwaway SQLite file). A 20-row decision table
(region × amount bands → team, reason; hit policy first) is registered as ``bench.assign``.

* ``evaluate(record=False)`` — one call per input (compiled decision cached; trace for reasons).
* ``evaluate_many(record=True)`` — batches of 1,000 with the ``Evaluation`` rows bulk-inserted.
* ``simulate`` — a draft that changes a few rows, replayed against the published version over
  the last ``--history`` recorded evaluations. Target < 60 s for 50,000.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable
from typing import Any

from bench.bench_customers import _setup_env

SIM_TARGET = 15.0  # issue 24 (was 60 s under issue 5)
REGIONS = ["140100", "140200", "140300", "140400", "140500"]
BANDS = ["< 50000", "[50000..200000)", "[200000..1000000)", ">= 1000000"]


def cpu_model() -> str:
    """Which CPU the figures come from (every rules/origination bench output names it)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            models = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
    except OSError:
        return "unknown CPU"
    return f"{models[0]} × {len(models)}" if models else "unknown CPU"


def table(team_of: Callable[[int, int], str]) -> dict[str, Any]:
    """A one-table JDM with 20 rows: 5 regions × 4 amount bands."""
    rules = []
    for r, region in enumerate(REGIONS):
        for b, band in enumerate(BANDS):
            rules.append(
                {
                    "_id": f"r{r}{b}",
                    "_description": f"{region} {band}",
                    "c1": f'"{region}"',
                    "c2": band,
                    "o1": f'"{team_of(r, b)}"',
                    "o2": f'"band {b}"',
                }
            )
    return {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "输入", "position": {"x": 0, "y": 0}},
            {
                "id": "t1",
                "type": "decisionTableNode",
                "name": "分配表",
                "position": {"x": 200, "y": 0},
                "content": {
                    "hitPolicy": "first",
                    "inputs": [
                        {"id": "c1", "name": "地区", "field": "region"},
                        {"id": "c2", "name": "金额", "field": "amount"},
                    ],
                    "outputs": [
                        {"id": "o1", "name": "团队", "field": "team"},
                        {"id": "o2", "name": "原因", "field": "reason"},
                    ],
                    "rules": rules,
                },
            },
            {"id": "out", "type": "outputNode", "name": "输出", "position": {"x": 400, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "in", "targetId": "t1", "type": "edge"},
            {"id": "e2", "sourceId": "t1", "targetId": "out", "type": "edge"},
        ],
    }


def inputs(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 — benchmark inputs
    return [
        {"region": rng.choice(REGIONS), "amount": rng.randint(1_000, 3_000_000)}
        for _ in range(count)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="inputs per throughput run")
    parser.add_argument("--history", type=int, default=50_000, help="recorded evaluations")
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
        from credo.rules import registry, services

        key = "bench.assign"
        registry.register_decision(
            registry.DecisionSpec(
                key=key,
                name="bench",
                default=table(lambda r, b: f"team-{r}-{b}"),
                outputs=[("team", "团队")],
                tests=[
                    {
                        "name": "t",
                        "input": {"region": "140100", "amount": 10},
                        "expected": {"team": "team-0-0"},
                    }
                ],
            )
        )
        model = services.ensure_model(key)
        data = inputs(args.count)
        services.evaluate(key, data[0], record=False)  # warm-up: compile + cache

        started = time.perf_counter()
        for item in data:
            services.evaluate(key, item, record=False)
        single = args.count / (time.perf_counter() - started)

        started = time.perf_counter()
        for i in range(0, args.count, 1000):
            services.evaluate_many(key, [(None, d) for d in data[i : i + 1000]], record=True)
        many = args.count / (time.perf_counter() - started)

        # seed the rest of the history with recorded evaluations
        seeded = args.count
        t = time.perf_counter()
        history = inputs(max(args.history - seeded, 0), seed=11)
        for i in range(0, len(history), 5000):
            services.evaluate_many(key, [(None, d) for d in history[i : i + 5000]], record=True)
        print(f"  recorded {args.history:,} evaluations in {time.perf_counter() - t:.1f} s")

        # the draft moves every "band 3" (≥ 1,000,000) decision to one team
        draft = services.version_create(
            model=model,
            actor=None,
            content=table(lambda r, b: "team-big" if b == 3 else f"team-{r}-{b}"),
        )
        sim = services.simulate(draft, limit=args.history)
        mark = "✅" if sim.seconds < SIM_TARGET else "❌"
        print()
        print(f"CPU: {cpu_model()}")
        print()
        print("| measurement | result | target |")
        print("|---|---|---|")
        print(f"| evaluate(record=False), 20-row table | {single:,.0f} evaluations/s | — |")
        print(f"| evaluate_many(record=True), batches of 1,000 | {many:,.0f} evaluations/s | — |")
        print(
            f"| simulate over {sim.total:,} recorded evaluations | {sim.seconds:.1f} s "
            f"({sim.changed:,} changed, {sim.errors} errors) | < {SIM_TARGET:.0f} s {mark} |"
        )
        return 0 if sim.seconds < SIM_TARGET else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
