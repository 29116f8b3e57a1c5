"""Scorecard engine: training time at 100,000 rows × 30 features and scoring throughput.

    .venv/bin/python -m bench.bench_scorecard_train [--rows 100000] [--score 100000] [--seed 7]

Pure engine benchmark (``credo.scorecard.engine``, no database). Generates ``--rows`` rows with
20 numeric features (five with 5–20 % missing values, a few pure noise) and 10 categorical
features with 3–30 levels, the target drawn from a known logistic model (bad rate ≈ 15 %). It
times:

* ``engine.train`` end to end, with its phases (binning of every feature on the training rows;
  selection + logistic-regression fit; scaling + metrics);
* ``ScoreModel.score`` one record at a time over ``--score`` records (records/s; the
  service needs ≥ 5,000 applications/s end to end, so the engine should be far above).

Targets: training < 60 s (aim < 15 s); scoring ≥ 50,000 records/s (≈ 20 µs per record).
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

TRAIN_TARGET = 60.0
SCORE_TARGET = 50_000.0


def generate(rows: int, seed: int = 7) -> tuple[dict[str, list[Any]], list[int], float]:
    """(columns, target, AUC of the true probabilities)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, list[Any]] = {}
    logit = np.full(rows, -2.6)
    for j in range(20):
        kind = j % 4
        if kind == 0:
            x = rng.lognormal(10, 0.7, rows).round(0)
            z = (np.log(x) - 10) / 0.7
        elif kind == 1:
            x = rng.normal(50, 15, rows).round(1)
            z = (x - 50) / 15
        elif kind == 2:
            x = rng.poisson(1.5, rows).astype(float)
            z = (x - 1.5) / 1.22
        else:
            x = rng.uniform(0, 1, rows).round(4)
            z = (x - 0.5) / 0.29
        beta = 0.0 if j >= 16 else rng.choice([-1, 1]) * rng.uniform(0.05, 0.35)
        logit += beta * z
        if j % 4 == 1:  # five features with missing values
            mask = rng.random(rows) < rng.uniform(0.05, 0.2)
            logit += np.where(mask, 0.2, 0.0)
            xs: list[Any] = x.tolist()
            for i in np.flatnonzero(mask).tolist():
                xs[i] = None
            cols[f"num_{j:02d}"] = xs
        else:
            cols[f"num_{j:02d}"] = x.tolist()
    for j in range(10):
        levels = int(3 + round(27 * j / 9))
        names = np.array([f"c{j}_{k:02d}" for k in range(levels)], dtype=object)
        p = rng.dirichlet(np.ones(levels) * 2)
        codes = rng.choice(levels, size=rows, p=p)
        eff = rng.normal(0, 0.25 if j < 8 else 0.0, levels)
        logit += eff[codes]
        cols[f"cat_{j:02d}"] = names[codes].tolist()
    prob = 1 / (1 + np.exp(-logit))
    y = (rng.random(rows) < prob).astype(int)
    from sklearn.metrics import roc_auc_score

    return cols, y.tolist(), float(roc_auc_score(y, prob))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="training rows")
    parser.add_argument("--score", type=int, default=100_000, help="records to score")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from credo.scorecard import engine

    t = time.perf_counter()
    cols, y, true_auc = generate(args.rows, args.seed)
    gen = time.perf_counter() - t
    print(
        f"generated {args.rows:,} rows × {len(cols)} features in {gen:.1f} s "
        f"(bad rate {sum(y) / len(y):.1%}, AUC of the true model {true_auc:.3f})",
        flush=True,
    )

    t = time.perf_counter()
    result = engine.train(cols, y)
    train_s = time.perf_counter() - t
    tm = result.timings
    model = result.to_dict()

    # The CSV path (what `credo scorecard train --csv` runs): write, read back, train.
    import csv
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", delete=False) as fh:
        writer = csv.writer(fh)
        writer.writerow([*cols, "bad"])
        for i in range(args.rows):
            writer.writerow(["" if v[i] is None else v[i] for v in cols.values()] + [y[i]])
        csv_path = fh.name
    t = time.perf_counter()
    csv_cols, csv_y, _notes = engine.read_csv(csv_path, "bad", "1")
    engine.train(csv_cols, csv_y)
    csv_s = time.perf_counter() - t
    os.unlink(csv_path)

    records = [
        {name: vals[i] for name, vals in cols.items()} for i in range(min(args.score, args.rows))
    ]
    scorer = engine.ScoreModel(model)
    scorer.score(records[0])
    t = time.perf_counter()
    for rec in records:
        scorer.score(rec)
    score_s = time.perf_counter() - t
    per_s = len(records) / score_s

    ok_train = train_s < TRAIN_TARGET
    ok_score = per_s >= SCORE_TARGET
    hold = result.metrics["holdout"]
    print()
    print("| measurement | result | target |")
    print("|---|---|---|")
    print(f"| rows × features | {args.rows:,} × {len(cols)} | — |")
    print(
        f"| engine.train total | {train_s:.2f} s | < {TRAIN_TARGET:.0f} s "
        f"{'✅' if ok_train else '❌'} |"
    )
    print(
        f"| CSV read + train (text values, as the upload) | {csv_s:.2f} s | < {TRAIN_TARGET:.0f} s "
        f"{'✅' if csv_s < TRAIN_TARGET else '❌'} |"
    )
    print(f"| · binning ({len(result.candidates)} features) | {tm.get('binning', 0):.2f} s | — |")
    print(f"| · selection + logistic fit | {tm.get('fit', 0):.2f} s | — |")
    print(f"| · scaling + metrics | {tm.get('scaling', 0):.2f} s | — |")
    print(f"| selected features | {len(result.features)} | — |")
    print(
        f"| holdout AUC / KS / Gini | {hold['auc']:.3f} / {hold['ks']:.3f} / {hold['gini']:.3f} "
        f"(true model {true_auc:.3f}) | — |"
    )
    print(
        f"| ScoreModel.score, {len(records):,} records | {per_s:,.0f} records/s "
        f"({1e6 / per_s:.1f} µs each) | ≥ {SCORE_TARGET:,.0f}/s {'✅' if ok_score else '❌'} |"
    )
    print()
    print("selected:", ", ".join(f"{f.name} (IV {f.iv:.3f})" for f in result.features))
    return 0 if ok_train and ok_score and csv_s < TRAIN_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
