"""Demo scorecard (``make demo``): train and publish a scorecard on a synthetic migrated history.

The demo book has only ~200 loans, too few for a scorecard, so the seeder builds the kind of
table a lender brings from its old system: 6,000 past business loans drawn from the demo
enterprises' profiles with random terms, whose outcome follows a fixed logistic "truth" (the same drivers as
the demo book in ``lending/demo.py``: industry, capital, business age, risk flags, loan size
against capital). The model has something real to find, and its card shows which.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from credo.core import clock
from credo.lending.demo import RISKY_INDUSTRIES

HISTORY_ROWS = 6000


def _truth(row: dict[str, Any], rng: random.Random) -> float:
    score = -2.9 + RISKY_INDUSTRIES.get(row["industry"] or "", 0.0)
    capital = row["registered_capital"]
    if row["kind"] == "enterprise":
        if capital is not None and capital < 1_000_000:
            score += 0.7
        ratio = row["amount_to_capital"]
        if ratio is not None and ratio > 0.5:
            score += 0.6
        years = row["business_years"]
        if years is not None and years < 3:
            score += 0.6
    else:
        score += 0.3
    score += 0.6 * min(row["risk_flag_count"], 2) + 0.5 * min(row["litigation_count"] or 0, 2)
    score += 0.25 * (row["months"] > 24) + (0.4 if row["guarantee"] == "信用" else 0.0)
    score += rng.gauss(0, 0.3)
    return 1 / (1 + math.exp(-score))


def synthetic_history(
    customers: list[Any], n: int = HISTORY_ROWS, seed: int = 2026
) -> tuple[dict[str, list[Any]], list[int]]:
    from credo.scorecard.features import CATALOGUE, _customer_part, _ratio

    rng = random.Random(seed)  # noqa: S311 — demo data
    today = clock.today()
    rows, target = [], []
    for _i in range(n):
        customer = rng.choice(customers)
        applied = today - dt.timedelta(days=rng.randint(400, 1500))
        row = _customer_part(customer, applied)
        enterprise = customer.kind == "enterprise"
        amount = (
            rng.randrange(100_000, 2_000_000, 10_000)
            if enterprise
            else rng.randrange(20_000, 300_000, 5_000)
        )
        row.update(
            {
                "amount": amount,
                "months": rng.choice([6, 12, 12, 24, 36]),
                "annual_rate": rng.choice([7.2, 8.5, 9.6, 12.0, 14.4]),
                "amount_to_capital": _ratio(amount, row["registered_capital"]),
                "litigation_count": rng.choices([0, 1, 2, 3], (80, 12, 5, 3))[0],
                "judgment_debtor": "是" if rng.random() < 0.02 else "否",
                "overdue_loans": rng.choices([0, 1], (95, 5))[0],
                "prior_loans": rng.choices([0, 1, 2, 3], (50, 30, 15, 5))[0],
                "product": "jyd" if enterprise else "xfd",
                "guarantee": rng.choices(["信用", "保证", "抵押", "保证+抵押"], (45, 30, 15, 10))[
                    0
                ],
            }
        )
        rows.append(row)
        target.append(1 if rng.random() < _truth(row, rng) else 0)
    columns = {name: [row.get(name) for row in rows] for name in CATALOGUE}
    return columns, target


def seed_demo_scorecard(ctx: Any) -> None:
    from credo.customers.models import Customer
    from credo.scorecard import services
    from credo.scorecard.models import Scorecard

    if Scorecard.objects.exists():
        ctx.out("  scorecard: already present, skipped")
        return
    manager = ctx.users.get("risk_manager")
    if manager is None:
        ctx.out("  scorecard: no risk manager user, skipped")
        return
    customers = list(
        Customer.objects.filter(status="active", kind="enterprise").order_by("id")[:2000]
    )
    if len(customers) < 50:
        ctx.out("  scorecard: too few customers, skipped")
        return
    columns, target = synthetic_history(customers)
    card = services.scorecard_train_table(
        actor=manager,
        columns=columns,
        target=target,
        source_name=f"旧系统迁移历史（演示合成，{len(target):,} 笔）",
        notes=[
            "演示数据：结果由固定的逻辑回归“真相”生成（行业、注册资本、成立年限、风险标记、涉诉、担保、期限）。"
        ],
        name="小微经营贷申请评分卡",
    )
    services.scorecard_publish(scorecard=card, actor=manager)
    ctx.out(
        f"  scorecard: v{card.number} trained on {card.rows:,} rows ({card.bads:,} bad), "
        f"holdout AUC {card.auc:.3f}, KS {card.ks:.3f}, {card.feature_count} features, published"
    )


def register() -> None:
    from credo.core.demo import register_seeder

    register_seeder("scorecard", seed_demo_scorecard, order=55)
