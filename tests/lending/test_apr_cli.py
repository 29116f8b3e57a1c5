"""`credo schedule` with fees (issue 20): --upfront-fee / --installment-fee, the JSON key
``apr_percent`` (two decimals, a string) and the 年化利率 line of the table; the calculator page
and the API quote show the same figure."""

from __future__ import annotations

import io
import json

import numpy_financial as npf
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

ISSUE = [
    "--principal", "120000", "--annual-rate", "10", "--months", "3",
    "--method", "interest_only", "--start", "2026-01-15",
]  # fmt: skip


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("schedule", *args, stdout=out)
    return out.getvalue()


def test_json_apr_percent_with_an_upfront_fee():
    data = json.loads(_run(*ISSUE, "--upfront-fee", "1200", "--format", "json"))
    expected = float(npf.irr([-118_800, 1_000, 1_000, 121_000])) * 1200
    assert data["apr_percent"] == f"{expected:.2f}" == "14.09"
    assert data["apr_effective_percent"] == "15.04"
    assert data["upfront_fee"] == "1200.00" and data["installment_fee"] == "0.00"
    assert data["total_interest"] == "3000.00"  # the schedule itself is unchanged


def test_json_without_fees_is_the_contract_rate():
    data = json.loads(_run(*ISSUE, "--format", "json"))
    assert data["apr_percent"] == "10.00"


def test_installment_fee_and_timing():
    data = json.loads(
        _run(*ISSUE, "--installment-fee", "50", "--upfront-fee", "1200",
             "--fee-timing", "first_installment", "--format", "json")
    )  # fmt: skip
    flows = [-120_000, 1_000 + 50 + 1_200, 1_050, 121_050]
    assert data["apr_percent"] == f"{float(npf.irr(flows)) * 1200:.2f}"


def test_table_shows_the_apr_line():
    text = _run(*ISSUE, "--upfront-fee", "1200")
    assert "年化利率（IRR 法，单利）：14.09%" in text
    assert "一次性手续费 1200.00 元" in text and "复利折算 15.04%" in text


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--upfront-fee", "-1"), ("--upfront-fee", "1.234"), ("--installment-fee", "x")],
)
def test_bad_fee_refused(flag, value):
    with pytest.raises(CommandError):
        _run(*ISSUE, flag, value)


def test_fee_eating_the_principal_refused():
    with pytest.raises(CommandError, match="到手金额"):
        _run(*ISSUE, "--upfront-fee", "120000")


@pytest.mark.django_db
def test_calculator_page_shows_the_apr(client, owner):
    client.force_login(owner)
    r = client.get(
        reverse("lending:calculator"),
        {
            "principal": "120000",
            "annual_rate": "10",
            "months": "3",
            "method": "interest_only",
            "start": "2026-01-15",
            "upfront_fee": "1200",
        },
    )
    body = r.content.decode()
    assert r.status_code == 200
    assert 'id="apr">14.09%' in body and "年化利率" in body
    # 4 × LPR: no LPR row → the 3.0 % fallback setting → 12 %, so a warning is shown
    assert 'id="apr-warning"' in body and "12.00%" in body
