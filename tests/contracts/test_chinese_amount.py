from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credo.contracts.chinese_amount import DIGITS, MAX_FEN, amount_upper

EXAMPLES = [
    (12_000_000, "人民币壹拾贰万元整"),
    (100_507, "人民币壹仟零伍元零柒分"),
    (10_000_000_010, "人民币壹亿元零壹角"),
    (10_700_053, "人民币壹拾万柒仟元零伍角叁分"),
    (140_902, "人民币壹仟肆佰零玖元零贰分"),
    (168_032, "人民币壹仟陆佰捌拾元零叁角贰分"),
    (325_004, "人民币叁仟贰佰伍拾元零肆分"),
    (150, "人民币壹元伍角"),
    (5, "人民币伍分"),
    (50, "人民币伍角"),
    (0, "人民币零元整"),
    (1_000, "人民币壹拾元整"),
    (1_000_000, "人民币壹万元整"),
    (1_000_100, "人民币壹万零壹元整"),
    (100_000_100, "人民币壹佰万零壹元整"),
    (10_001_000_000, "人民币壹亿零壹万元整"),
    (10_100_000_000, "人民币壹亿零壹佰万元整"),
    (10_000_000_000, "人民币壹亿元整"),
    (123_456_789_012, "人民币壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元零壹角贰分"),
]


@pytest.mark.parametrize(("fen", "text"), EXAMPLES)
def test_examples(fen, text):
    assert amount_upper(fen) == text


def test_refuses_negative_and_non_integers():
    with pytest.raises(ValueError):
        amount_upper(-1)
    with pytest.raises(TypeError):
        amount_upper(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        amount_upper(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        amount_upper(MAX_FEN + 1)


SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def _parse_int(text: str) -> int:
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS.index(ch)
        elif ch in SMALL:
            section += digit * SMALL[ch]
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        elif ch == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
        else:
            raise AssertionError(f"unexpected {ch!r}")
    return total + section + digit


def parse(text: str) -> int:
    """Independent parser: capitals → fen (the inverse the tests check against)."""
    assert text.startswith("人民币")
    body = text[3:]
    if body.endswith("整"):
        body = body[:-1]
    yuan_part, _, rest = body.partition("元") if "元" in body else ("", "", body)
    fen = _parse_int(yuan_part.replace("零", "")) * 100 if yuan_part else 0
    rest = rest.lstrip("零")
    if "角" in rest:
        jiao, _, rest = rest.partition("角")
        fen += DIGITS.index(jiao) * 10
    if "分" in rest:
        fen += DIGITS.index(rest.rstrip("分"))
    return fen


amounts = st.integers(min_value=0, max_value=MAX_FEN)


@given(amounts)
def test_round_trip(fen):
    assert parse(amount_upper(fen)) == fen


@given(amounts)
def test_writing_rules(fen):
    text = amount_upper(fen)
    assert "零零" not in text  # consecutive zeros are written once
    assert not text.endswith("零") and "零元" not in text[4:]
    assert text.endswith("整") == (fen % 100 == 0)  # 整 only when there are no 角/分
    if fen % 100 and fen >= 100:
        assert "元" in text
    assert "零万" not in text and "零亿" not in text and "亿万" not in text


@given(st.integers(min_value=1, max_value=MAX_FEN // 10))
def test_ten_times_differs_and_parses(fen):
    # monotone through the parser: a larger amount never reads as a smaller one
    assert parse(amount_upper(fen * 10)) > parse(amount_upper(fen))


@given(st.integers(min_value=0, max_value=MAX_FEN - 1))
def test_monotonic(fen):
    assert parse(amount_upper(fen + 1)) > parse(amount_upper(fen))
