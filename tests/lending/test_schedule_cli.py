"""`credo schedule` and the 还款计划试算 page with the item-10 methods and figures."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse


def _cli(*args: str) -> dict:
    out = io.StringIO()
    call_command("schedule", *args, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def test_cli_equal_principal_bank_figures():
    data = _cli(
        "--principal", "1000000", "--annual-rate", "4.9", "--months", "360",
        "--method", "equal_principal", "--start", "2026-01-15",
    )  # fmt: skip
    assert data["installments"][0]["payment"] == "6861.11"
    assert data["total_interest"] == "737041.67"


@pytest.mark.parametrize(
    ("method", "first"),
    [("interest_quarterly", "1500.00"), ("equal_installment_quarterly", "25944.48")],
)
def test_cli_quarterly_methods(method, first):
    data = _cli(
        "--principal", "100000", "--annual-rate", "6", "--months", "12",
        "--method", method, "--start", "2026-01-15",
    )  # fmt: skip
    assert [i["due_date"] for i in data["installments"]] == [
        "2026-04-15",
        "2026-07-15",
        "2026-10-15",
        "2027-01-15",
    ]
    assert data["installments"][0]["payment"] == first  # 100,000 × 6 % / 4; or the annuity


def test_cli_quarterly_term_refused():
    with pytest.raises(CommandError, match="3 个月的整数倍"):
        _cli(
            "--principal", "100000", "--annual-rate", "6", "--months", "10",
            "--method", "interest_quarterly", "--start", "2026-01-15",
        )  # fmt: skip


def test_cli_table_shows_new_label():
    out = io.StringIO()
    call_command(
        "schedule", "--principal", "100000", "--annual-rate", "6", "--months", "6",
        "--method", "interest_only", "--start", "2026-01-15", stdout=out,
    )  # fmt: skip
    assert "按月付息到期还本（先息后本）" in out.getvalue()


@pytest.mark.django_db
def test_calculator_page_quarterly(client, owner):
    client.force_login(owner)
    page = client.get(
        reverse("lending:calculator"),
        {
            "principal": "100000",
            "annual_rate": "6",
            "months": "12",
            "method": "equal_installment_quarterly",
            "start": "2026-01-15",
        },
    ).content.decode()
    assert "按季等额本息" in page and "25,944.48" in page and "2026-04-15" in page
    bad = client.get(
        reverse("lending:calculator"),
        {
            "principal": "100000",
            "annual_rate": "6",
            "months": "10",
            "method": "interest_quarterly",
            "start": "2026-01-15",
        },
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "3 个月的整数倍" in bad
