"""Normalisation to Credo fields: validators, ISO dates, Luhn, capital; the simulated provider."""

from __future__ import annotations

import datetime as dt

from credo.core.validators import id_check_char, is_valid_id_number, is_valid_uscc
from credo.ocr.normalize import LOW_CONFIDENCE, luhn_valid, normalize, parse_capital, parse_date
from credo.ocr.providers.base import OcrResult
from credo.ocr.providers.simulated import SimulatedOcr
from tests.factories import png_bytes

TODAY = dt.date(2026, 6, 1)
FIRST17 = "14010519900307001"
ID_NUMBER = FIRST17 + id_check_char(FIRST17)


def _by_key(fields):
    return {f.key: f for f in fields}


def test_id_card_front_normalised():
    result = OcrResult(
        fields={
            "name": ("李明", 0.98),
            "id_number": (ID_NUMBER.lower(), 0.97),
            "sex": ("男", 0.99),
            "birth": ("1990/3/7", 0.9),
            "address": ("山西省太原市", 0.7),
        }
    )
    fields = _by_key(normalize("id_card", result, today=TODAY))
    assert list(fields) == ["name", "id_number", "sex", "birth", "address"]
    assert fields["id_number"].value == ID_NUMBER
    assert fields["id_number"].valid and fields["id_number"].target == "id_number"
    assert fields["birth"].value == "1990-03-07"
    assert fields["address"].low and not fields["name"].low
    assert fields["sex"].target == ""  # information only


def test_invalid_id_number_is_flagged_and_low():
    bad = FIRST17 + ("0" if id_check_char(FIRST17) != "0" else "1")
    fields = _by_key(
        normalize("id_card", OcrResult(fields={"id_number": (bad, 0.99)}), today=TODAY)
    )
    assert not fields["id_number"].valid
    assert fields["id_number"].message == "身份证号校验位错误，请核对。"
    assert fields["id_number"].confidence < LOW_CONFIDENCE


def test_birth_and_sex_cross_checked_with_id_number():
    result = OcrResult(
        fields={
            "id_number": (ID_NUMBER, 0.99),
            "birth": ("1990年3月8日", 0.99),
            "sex": ("女", 0.99),
        }
    )
    fields = _by_key(normalize("id_card", result, today=TODAY))
    assert fields["birth"].message == "出生日期与身份证号不一致，请核对。"
    assert fields["sex"].message == "性别与身份证号不一致，请核对。"
    assert fields["birth"].low and fields["sex"].low


def test_id_card_back_dates_and_expiry():
    result = OcrResult(
        fields={
            "authority": ("太原市公安局", 0.95),
            "valid_from": ("2006.01.01", 0.95),
            "valid_to": ("2026.01.01", 0.95),
        }
    )
    fields = _by_key(normalize("id_card", result, side="back", today=TODAY))
    assert fields["valid_from"].value == "2006-01-01"
    assert fields["valid_to"].value == "2026-01-01"
    assert fields["valid_to"].message == "证件已过期。"
    long_term = normalize(
        "id_card", OcrResult(fields={"valid_to": ("长期", 0.9)}), side="back", today=TODAY
    )
    assert long_term[0].value == "长期" and long_term[0].message == ""


def test_business_licence_normalised():
    result = OcrResult(
        fields={
            "name": ("山西晋阳商贸有限公司", 0.97),
            "uscc": ("91140105ma0k2b3c4d", 0.95),
            "registered_capital": ("人民币500万元", 0.9),
            "founded_on": ("2015年05月08日", 0.9),
        }
    )
    fields = _by_key(normalize("business_license", result, today=TODAY))
    assert fields["uscc"].value == "91140105MA0K2B3C4D"
    assert fields["uscc"].valid == is_valid_uscc("91140105MA0K2B3C4D")
    assert fields["registered_capital"].value == "5000000.00"
    assert fields["founded_on"].value == "2015-05-08"
    bad = normalize(
        "business_license", OcrResult(fields={"uscc": ("91140105MA0K2B3C4X", 0.99)}), today=TODAY
    )
    assert not bad[0].valid and bad[0].low


def test_bank_card_luhn():
    ok = normalize(
        "bank_card", OcrResult(fields={"card_number": ("6217 0000 0000 0000 004", 0.96)})
    )
    assert ok[0].value == "6217000000000000004" and ok[0].valid
    assert ok[0].target == "bank_account"
    assert ok[0].as_log()["value"] == "***************0004"
    bad = normalize("bank_card", OcrResult(fields={"card_number": ("6217000000000000001", 0.96)}))
    assert not bad[0].valid
    assert bad[0].message == "银行卡号校验未通过（Luhn），请核对。"


def test_pure_helpers():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert parse_capital("1,200.5万元") == "12005000.00"
    assert parse_capital("伍佰万元整") == ""
    assert parse_date("2015年5月8日") == dt.date(2015, 5, 8)
    assert parse_date("2015.13.01") is None


def test_id_log_is_masked():
    fields = normalize("id_card", OcrResult(fields={"id_number": (ID_NUMBER, 0.99)}), today=TODAY)
    assert fields[0].as_log() == {
        "key": "id_number",
        "value": "140105********" + ID_NUMBER[-4:],
        "confidence": 0.99,
        "valid": True,
    }


def test_simulated_provider_is_deterministic_and_valid():
    provider = SimulatedOcr()
    image = png_bytes((20, 20))
    first = provider.recognize("id_card", image, "front")
    assert first == provider.recognize("id_card", image, "front")
    assert is_valid_id_number(first.fields["id_number"][0], today=TODAY)
    other = provider.recognize("id_card", png_bytes((21, 20)), "front")
    assert other.fields["id_number"] != first.fields["id_number"]
    licence = provider.recognize("business_license", image)
    assert is_valid_uscc(licence.fields["uscc"][0])
    card = provider.recognize("bank_card", image)
    assert luhn_valid(card.fields["card_number"][0])
    fields = normalize("id_card", first, today=TODAY)
    assert all(f.valid for f in fields)
    assert [f.key for f in fields if f.low] == ["address"]


def test_a_persons_details_are_not_logged_but_a_licence_stays_readable():
    """The request log and its audit row (which cannot be erased) keep no personal details of
    an ID card; a business licence's public registration data stays readable."""
    result = OcrResult(fields={"name": ("张三", 0.99), "address": ("太原市小店区长风街1号", 0.9)})
    logged = {f.key: f.as_log()["value"] for f in normalize("id_card", result, today=TODAY)}
    assert "张三" not in logged.values() and "太原市小店区长风街1号" not in logged.values()
    assert set(logged["name"]) == {"*"} and set(logged["address"]) == {"*"}
    licence = OcrResult(fields={"name": ("太原钢铁贸易有限公司", 0.99)})
    fields = normalize("business_license", licence, today=TODAY)
    assert fields[0].as_log(personal=False)["value"] == "太原钢铁贸易有限公司"
