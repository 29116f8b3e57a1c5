"""The contract template variable ``apr`` (issue 20): the default contract states the
年化利率（单利） of the borrower's flows."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy_financial as npf

import credo.contracts
from credo.contracts import rendering

CUSTOMER = SimpleNamespace(kind="enterprise", uscc="91140100MA0L00000N", address="太原")


def _context(**terms):
    return rendering.context_for(
        number="HT000", terms={**rendering.SAMPLE_TERMS, **terms}, customer=CUSTOMER
    )


def test_apr_is_a_listed_placeholder():
    assert "apr" in dict(rendering.PLACEHOLDERS)


def test_apr_from_the_contract_table_and_fees():
    assert _context()["apr"] == "12.00"  # the sample: 120,000 at 12 %, 3 months, no fee
    payments = [r["payment"] for r in rendering.SAMPLE_TERMS["schedule"]]
    expected = float(npf.irr([-(12_000_000 - 120_000), *payments])) * 1200
    assert _context(upfront_fee_fen=120_000)["apr"] == f"{expected:.2f}"
    with_fee = float(npf.irr([-12_000_000, *[p + 5_000 for p in payments]])) * 1200
    assert _context(installment_fee_fen=5_000)["apr"] == f"{with_fee:.2f}"


def test_apr_given_by_origination_wins():
    assert _context(apr_percent="13.9")["apr"] == "13.90"


def test_default_contract_states_the_apr():
    body = (Path(credo.contracts.__file__).parent / "default_templates" / "loan.html").read_text(
        "utf-8"
    )
    html = rendering.render_body(body, _context(apr_percent="13.91"))
    assert "年化利率（单利）13.91%" in html.replace("<strong>", "").replace("</strong>", "")
