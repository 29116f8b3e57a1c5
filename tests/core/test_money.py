from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from credo.core.money import Money, parse_money, quantize_fen

fen_amounts = st.integers(min_value=-(10**13), max_value=10**13)


def test_half_up_rounding_is_the_one_rule():
    assert quantize_fen("0.005") == Decimal("0.01")
    assert quantize_fen("0.004999") == Decimal("0.00")
    assert quantize_fen("-0.005") == Decimal("-0.01")
    assert quantize_fen("2.675") == Decimal("2.68")  # float would give 2.67
    assert Money("12.345").fen == 1235


def test_floats_are_refused():
    with pytest.raises(TypeError):
        Money(0.1)
    with pytest.raises(TypeError):
        Money("1") * 1.5


def test_display_and_parse():
    assert Money("1234567.8").format() == "¥1,234,567.80"
    assert str(Money.from_fen(5)) == "0.05"
    assert parse_money("1,000.50") == Money.from_fen(100050)
    with pytest.raises(ValidationError, match="两位小数"):
        parse_money("1.001")
    with pytest.raises(ValidationError, match="负数"):
        parse_money("-1")
    with pytest.raises(ValidationError, match="有效的金额"):
        parse_money("abc")


def test_rate_multiplication_rounds_once():
    # 1,000,000.00 × 4.9% / 12 = 4083.3333… → 4083.33
    assert Money("1000000") * (Decimal("0.049") / 12) == Money("4083.33")


@given(fen_amounts, fen_amounts)
def test_addition_is_exact(a, b):
    assert (Money.from_fen(a) + Money.from_fen(b)).fen == a + b
    assert (Money.from_fen(a) - Money.from_fen(b)).fen == a - b


@given(fen_amounts, st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=20))
def test_allocate_sums_exactly_and_is_fair(amount, weights):
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    parts = Money.from_fen(amount).allocate(weights)
    assert sum(p.fen for p in parts) == amount
    total = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        exact = Decimal(amount) * w / total
        assert abs(Decimal(part.fen) - exact) < 1


@given(st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=6))
def test_quantize_is_within_half_a_fen(value):
    assert abs(quantize_fen(value) - value) <= Decimal("0.005")


@pytest.mark.django_db
def test_money_field_round_trip():
    from credo.core.money import MoneyField

    field = MoneyField()
    assert field.get_prep_value(Money("5307.27")) == 530727
    assert field.from_db_value(530727, None, None) == Money("5307.27")
    assert field.to_python("12.30") == Money.from_fen(1230)
