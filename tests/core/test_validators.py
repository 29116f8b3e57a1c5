import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from credo.core.validators import (
    ID_CHECK,
    USCC_CHARS,
    id_check_char,
    id_gender,
    is_valid_id_number,
    is_valid_mobile,
    is_valid_uscc,
    normalize_phone,
    uscc_check_char,
    validate_id_number,
    validate_phone,
    validate_uscc,
)

KNOWN_USCC = "91350100M000100Y43"  # a published valid code
KNOWN_ID = "11010519491231002X"  # the GB 11643 example


def test_known_values():
    assert is_valid_uscc(KNOWN_USCC)
    assert is_valid_id_number(KNOWN_ID)
    assert id_gender(KNOWN_ID) == "female"


def test_messages_are_chinese_and_specific():
    with pytest.raises(ValidationError, match="校验位"):
        validate_uscc("91350100M000100Y44")
    with pytest.raises(ValidationError, match="18 位"):
        validate_id_number("1101051949123100")
    with pytest.raises(ValidationError, match="出生日期"):
        validate_id_number("110105194913310026")
    with pytest.raises(ValidationError, match="电话号码"):
        validate_phone("12345")


uscc_body = st.text(alphabet=USCC_CHARS, min_size=2, max_size=2).flatmap(
    lambda head: st.text(alphabet="0123456789", min_size=6, max_size=6).flatmap(
        lambda region: st.text(alphabet=USCC_CHARS, min_size=9, max_size=9).map(
            lambda tail: head + region + tail
        )
    )
)


@given(uscc_body)
def test_generated_uscc_valid_and_any_single_change_detected(body):
    code = body + uscc_check_char(body)
    assert is_valid_uscc(code)
    assert is_valid_uscc(code.lower())  # normalized
    for pos in range(18):
        for replacement in ("0", "A"):
            if code[pos] == replacement:
                continue
            corrupted = code[:pos] + replacement + code[pos + 1 :]
            assert not is_valid_uscc(corrupted), corrupted


@st.composite
def id_numbers(draw):
    region = draw(st.sampled_from(["140105", "110105", "140202", "310101"]))
    birth = draw(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2008, 12, 31)))
    seq = draw(st.integers(min_value=0, max_value=999))
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


@given(id_numbers(), st.integers(min_value=0, max_value=16), st.integers(1, 9))
def test_generated_ids_valid_and_digit_errors_detected(code, pos, delta):
    assert is_valid_id_number(code)
    corrupted_digit = str((int(code[pos]) + delta) % 10)
    corrupted = code[:pos] + corrupted_digit + code[pos + 1 :]
    assert not is_valid_id_number(corrupted)


@given(id_numbers())
def test_wrong_check_character_detected(code):
    for ch in ID_CHECK:
        if ch != code[-1]:
            assert not is_valid_id_number(code[:-1] + ch)


def test_phones():
    assert normalize_phone("+86 138-0013-8000") == "13800138000"
    assert is_valid_mobile("13800138000")
    assert not is_valid_mobile("12800138000")
    validate_phone("0351-1234567")
    validate_phone("0351-12345678-123")
