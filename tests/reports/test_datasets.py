from decimal import Decimal

import pytest

from credo.reports.datasets import (
    Dataset,
    Dimension,
    Measure,
    QueryError,
    dataset_registry,
    display_value,
    register_dataset,
    run_query,
)

pytestmark = pytest.mark.django_db
Y = 100  # fen per yuan


def test_totals_and_rates_exact(portfolio, owner):
    r = run_query(
        owner,
        {
            "dataset": "loans",
            "measures": [
                "count",
                "outstanding",
                "overdue_balance",
                "m1_balance",
                "m3_balance",
                "overdue_rate_count",
                "overdue_rate_balance",
                "m1_rate",
            ],
        },
    )
    [row] = r.rows
    assert row["count"] == 4
    assert row["outstanding"] == 1_000_000 * Y
    assert row["overdue_balance"] == 900_000 * Y
    assert row["m1_balance"] == 700_000 * Y  # DPD > 30
    assert row["m3_balance"] == 400_000 * Y  # DPD > 90
    assert row["overdue_rate_count"] == Decimal("0.7500")
    assert row["overdue_rate_balance"] == Decimal("0.9000")
    assert row["m1_rate"] == Decimal("0.7000")


def test_group_by_classification_and_bucket(portfolio, owner):
    r = run_query(
        owner,
        {
            "dataset": "loans",
            "dimensions": ["dpd_bucket"],
            "measures": ["count", "outstanding"],
            "order": "-outstanding",
        },
    )
    got = {row["dpd_bucket"]: (row["count"], row["outstanding"]) for row in r.rows}
    assert got == {
        "M4+": (1, 400_000 * Y),
        "M2": (1, 300_000 * Y),
        "M1": (1, 200_000 * Y),
        "C": (1, 100_000 * Y),
    }
    assert [row["dpd_bucket"] for row in r.rows] == ["M4+", "M2", "M1", "C"]
    assert r.rows[0]["dpd_bucket__label"] == "M4+（90 天以上）"
    cols = r.columns
    assert display_value(cols[2], r.rows[0]) == "400,000.00"


def test_filters_and_scope(portfolio, owner, outsider):
    r = run_query(
        owner,
        {
            "dataset": "loans",
            "dimensions": ["classification"],
            "measures": ["count"],
            "filters": [{"dimension": "classification", "op": "in", "value": ["substandard"]}],
        },
    )
    assert [(x["classification"], x["count"]) for x in r.rows] == [("substandard", 1)]
    # the outsider's scope holds none of these loans; an empty result, not an error
    empty = run_query(
        outsider, {"dataset": "loans", "dimensions": ["product"], "measures": ["count"]}
    )
    assert empty.empty or empty.rows == []


def test_installments_collection_rate(portfolio, owner):
    r = run_query(
        owner,
        {
            "dataset": "installments",
            "measures": ["count", "due_amount", "paid_amount", "collection_rate"],
        },
    )
    [row] = r.rows
    assert row["count"] == 4 * 12 and row["paid_amount"] == 0
    assert row["collection_rate"] == Decimal("0")


@pytest.mark.parametrize(
    "spec",
    [
        {"dataset": "nope", "measures": ["count"]},
        {"dataset": "loans", "measures": []},
        {"dataset": "loans", "measures": ["nope"]},
        {"dataset": "loans", "dimensions": ["nope"], "measures": ["count"]},
        {
            "dataset": "loans",
            "measures": ["count"],
            "filters": [{"dimension": "status", "op": "regex"}],
        },
        {"dataset": "loans", "measures": ["count"], "filters": [{"dimension": "x", "op": "eq"}]},
    ],
)
def test_bad_specs_refused(portfolio, owner, spec):
    with pytest.raises(QueryError):
        run_query(owner, spec)


def test_sensitive_dimension_hidden_and_refused(portfolio, owner):
    from credo.lending.selectors import loans_for

    register_dataset(
        Dataset(
            key="t_sensitive",
            label="t",
            base=loans_for,
            dimensions=[
                Dimension(
                    "phone", "手机号", "customer__phone", sensitive="customers.customer.phone"
                )
            ],
            measures=[
                Measure("count", "n", lambda: __import__("django.db.models").db.models.Count("id"))
            ],
        )
    )
    try:
        ds = dataset_registry["t_sensitive"]
        assert "phone" not in ds.dims_for(owner)
        with pytest.raises(QueryError):
            run_query(
                owner, {"dataset": "t_sensitive", "dimensions": ["phone"], "measures": ["count"]}
            )
        with pytest.raises(QueryError):
            run_query(
                owner,
                {
                    "dataset": "t_sensitive",
                    "measures": ["count"],
                    "filters": [{"dimension": "phone", "op": "eq", "value": "1"}],
                },
            )
    finally:
        dataset_registry.unregister("t_sensitive")


def test_team_lead_sees_only_the_team(portfolio, org):
    from django.contrib.auth.models import Permission

    from credo.reports import kpis
    from tests.factories import RoleFactory, UserFactory

    role = RoleFactory(code="t_lead", name="组长", data_scope="team")
    role.permissions.add(*Permission.objects.filter(codename__in=["view_loan"]))
    same = UserFactory(username="lead_a", org_unit=org["team_a"], roles=[role])
    other = UserFactory(username="lead_b", org_unit=org["team_b"], roles=[role])
    spec = {"dataset": "loans", "measures": ["count", "outstanding"]}
    assert run_query(same, spec).rows[0]["count"] == 4  # the owner's loans are team A's
    assert run_query(other, spec).rows[0]["count"] == 0
    import datetime as dt

    cards = {c["key"]: c["value"] for c in kpis.compute(other, "year", dt.date(2026, 6, 1))}
    assert cards["outstanding"] == 0
    cards = {c["key"]: c["value"] for c in kpis.compute(same, "year", dt.date(2026, 6, 1))}
    assert cards["outstanding"] == 1_000_000 * Y
