"""Strategy tiers across DPD boundaries (decision ``collections.strategy``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.collections.strategy import KEY, inputs_for, spec
from credo.rules.services import published_version, run_tests, run_version

pytestmark = pytest.mark.django_db

BASE = {
    0: "",
    1: "sms",
    3: "sms",
    4: "call_junior",
    10: "call_junior",
    11: "senior_letter",
    30: "senior_letter",
    31: "legal",
    400: "legal",
}
RANK = {"": 0, "sms": 1, "call_junior": 2, "senior_letter": 3, "legal": 4}


def tier(version, dpd, amount_yuan, grade="B"):
    result, _r = run_version(version, {"dpd": dpd, "amount": amount_yuan, "risk_grade": grade})
    return result.get("tier")


@pytest.mark.parametrize("dpd,expected", sorted(BASE.items()))
def test_tiers_at_dpd_boundaries(dpd, expected):
    assert tier(published_version(KEY), dpd, 100_000) == expected


def test_shipped_test_cases_pass():
    version = published_version(KEY)
    results = run_tests(version)
    assert len(results) == len(spec().tests)
    assert all(r.passed for r in results), [r for r in results if not r.passed]


def test_large_amounts_escalate_earlier_and_reasons_given():
    version = published_version(KEY)
    assert tier(version, 5, 600_000) == "senior_letter"
    assert tier(version, 2, 2_000_000) == "call_junior"
    assert tier(version, 2, 100_000, "E") == "call_junior"
    _res, reasons = run_version(version, {"dpd": 5, "amount": 100, "risk_grade": ""})
    assert reasons and "4–10" in reasons[0]["description"]


def test_inputs_are_whole_yuan():
    assert inputs_for(dpd=3, amount_fen=12_345_678, risk_grade="") == {
        "dpd": 3,
        "amount": 123_456,
        "risk_grade": "",
    }


@settings(max_examples=60, deadline=None)
@given(
    dpd=st.sampled_from(sorted(BASE)),
    amount=st.integers(min_value=0, max_value=50_000_000),
    grade=st.sampled_from(["", "A", "B", "C", "D", "E"]),
)
def test_tier_never_below_the_dpd_bucket(dpd, amount, grade):
    version = published_version(KEY)
    got = tier(version, dpd, amount, grade)
    assert RANK[got] >= RANK[BASE[dpd]]
    if amount < 500_000 and grade not in ("D", "E"):
        assert got == BASE[dpd]
    if dpd > 30 or dpd == 0:  # the extremes never move
        assert got == BASE[dpd]
