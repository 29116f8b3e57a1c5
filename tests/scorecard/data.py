"""A generated loan history with a known signal, shared by the scorecard tests.

Construction (E) / real estate (K) / hospitality (H), young firms, small capital, unsecured
loans and city 1402 (大同) default more; amount, term and ``noise`` carry nothing; a tenth of
``business_years`` is missing. Columns are named as the feature catalogue, so a model trained on
it scores real applications."""

from __future__ import annotations

import csv
import io
import math
import random

INDUSTRY_RISK = {"E": 1.4, "K": 1.2, "H": 0.6}


def generate(n: int = 3000, seed: int = 7) -> tuple[dict[str, list], list[int]]:
    rng = random.Random(seed)
    names = ("industry", "region", "registered_capital", "business_years", "amount", "months")
    cols: dict[str, list] = {k: [] for k in (*names, "guarantee", "noise")}
    target = []
    for _ in range(n):
        industry = rng.choice("CFEHIK")
        region = rng.choice(["1401", "1402", "3301"])
        capital = rng.choice([200_000, 500_000, 1_000_000, 3_000_000, 10_000_000])
        years = round(rng.uniform(0.5, 20), 1)
        guarantee = rng.choice(["信用", "保证", "抵押"])
        z = (
            -2.4
            + INDUSTRY_RISK.get(industry, 0)
            + (1.0 if years < 3 else 0)
            + (0.9 if capital < 1_000_000 else 0)
            + (0.7 if guarantee == "信用" else 0)
            + (0.6 if region == "1402" else 0)
        )
        target.append(1 if rng.random() < 1 / (1 + math.exp(-z)) else 0)
        row = {
            "industry": industry,
            "region": region,
            "registered_capital": capital,
            "business_years": years if rng.random() > 0.1 else None,
            "amount": rng.randrange(100_000, 2_000_000, 10_000),
            "months": rng.choice([6, 12, 24, 36]),
            "guarantee": guarantee,
            "noise": round(rng.random(), 4),
        }
        for k, v in row.items():
            cols[k].append(v)
    return cols, target


def to_csv(cols: dict[str, list], target: list[int], *, target_name: str = "bad") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    names = list(cols)
    writer.writerow([*names, target_name])
    for i, t in enumerate(target):
        writer.writerow([("" if cols[k][i] is None else cols[k][i]) for k in names] + [t])
    return buf.getvalue().encode("utf-8-sig")


def make_csv(n: int = 3000, seed: int = 7) -> bytes:
    return to_csv(*generate(n, seed))
