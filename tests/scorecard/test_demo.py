"""The demo seeder trains and publishes a scorecard whose model found the hidden drivers."""

import datetime as dt

import pytest

from credo.core.demo import DemoContext
from credo.core.money import Money
from credo.customers.models import Customer
from credo.scorecard import demo
from credo.scorecard.models import Scorecard

pytestmark = pytest.mark.django_db


def test_demo_scorecard_trained_published_and_idempotent(owner, risk_manager):
    industries = "CFHKEGIL"
    Customer.objects.bulk_create(
        [
            Customer(
                kind="enterprise",
                name=f"演示企业{i}",
                uscc=f"91DEMO{i:012d}",
                registered_capital=Money([300_000, 800_000, 3_000_000, 10_000_000][(i // 8) % 4]),
                industry=industries[i % len(industries)],
                founded_on=dt.date(2010 + (i // 3) % 16, 1, 1),
                region_code=["140105", "140202", "140302"][i % 3],
                owner=owner,
            )
            for i in range(300)
        ]
    )
    out: list[str] = []
    ctx = DemoContext(users={"risk_manager": risk_manager}, org={}, out=out.append)
    demo.seed_demo_scorecard(ctx)
    card = Scorecard.objects.get()
    assert card.status == "published" and card.rows == demo.HISTORY_ROWS
    assert card.auc is not None and card.auc > 0.62
    names = {f["name"] for f in card.model["features"]}
    assert "industry" in names and names & {"registered_capital", "amount_to_capital"}
    assert "published" in out[-1]
    demo.seed_demo_scorecard(ctx)
    assert "already present" in out[-1] and Scorecard.objects.count() == 1
