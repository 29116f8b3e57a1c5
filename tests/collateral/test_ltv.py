from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credo.collateral.ltv import exceeds, ltv_pct, parse_limit

FEN = st.integers(min_value=0, max_value=10**13)


def test_examples():
    assert ltv_pct(30_000_000, 50_000_000) == Decimal("60.00")
    assert ltv_pct(1, 3) == Decimal("33.33")
    assert ltv_pct(2, 3) == Decimal("66.67")  # half-up
    assert ltv_pct(100, 0) is None and ltv_pct(100, None) is None
    assert exceeds(Decimal("70.01"), Decimal("70")) and not exceeds(Decimal("70"), Decimal("70"))
    assert not exceeds(None, Decimal("70"))


@given(FEN, st.integers(min_value=1, max_value=10**13))
def test_ltv_is_the_ratio_rounded(loan, value):
    ltv = ltv_pct(loan, value)
    assert ltv is not None
    assert abs(ltv - Decimal(loan) * 100 / Decimal(value)) <= Decimal("0.005")


@given(FEN, st.integers(min_value=1, max_value=10**12), st.integers(min_value=1, max_value=10**12))
def test_more_value_never_raises_ltv(loan, value, extra):
    assert ltv_pct(loan, value + extra) <= ltv_pct(loan, value)


def test_parse_limit():
    assert parse_limit("") == Decimal("70")
    assert parse_limit(" 65.5 ") == Decimal("65.5")
    for bad in ("abc", "0", "-1", "2000", "nan"):
        with pytest.raises(ValueError):
            parse_limit(bad)
