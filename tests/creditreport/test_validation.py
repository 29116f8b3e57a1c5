"""Row-level validation: identity checksums, field rules, ledger consistency."""

from __future__ import annotations

import datetime as dt

from credo.core.validators import id_check_char, uscc_check_char
from credo.creditreport.validation import validate_record

ID17 = "14010519800101001"
USCC17 = "91140100MA0000001"


def row(**kw):
    base = {
        "month": dt.date(2026, 2, 1),
        "borrower_name": "张三",
        "id_type": "id_card",
        "id_number": ID17 + id_check_char(ID17),
        "account_number": "L1",
        "open_date": dt.date(2026, 1, 15),
        "maturity_date": dt.date(2027, 1, 15),
        "amount": 100_000,
        "currency": "CNY",
        "repayment_frequency": "monthly",
        "guarantee_type": "credit",
        "five_class": "normal",
        "balance": 90_000,
        "overdue_periods": 0,
        "overdue_amount": 0,
        "overdue_principal": 0,
        "account_status": "open",
        "status_string": "/" * 22 + "*N",
        "ledger_balance": 90_000,
    }
    base.update(kw)
    return base


def fields(errors):
    return [e["field"] for e in errors]


def test_a_good_row_passes():
    assert validate_record(row()) == []
    assert validate_record(row(id_type="uscc", id_number=USCC17 + uscc_check_char(USCC17))) == []


def test_identity_checksums():
    wrong = "0" if id_check_char(ID17) != "0" else "1"
    assert validate_record(row(id_number=ID17 + wrong)) == [
        {"field": "id_number", "message": "身份证号校验位错误，请核对。"}
    ]
    bad_uscc = USCC17 + ("0" if uscc_check_char(USCC17) != "0" else "1")
    assert validate_record(row(id_type="uscc", id_number=bad_uscc)) == [
        {"field": "id_number", "message": "统一社会信用代码校验位错误，请核对。"}
    ]
    assert fields(validate_record(row(id_number=""))) == ["id_number"]
    assert fields(validate_record(row(borrower_name=" "))) == ["borrower_name"]


def test_field_rules():
    assert fields(validate_record(row(balance=200_000, ledger_balance=200_000))) == ["balance"]
    assert fields(validate_record(row(overdue_periods=1))) == ["overdue_amount"]
    overdue = row(overdue_periods=1, overdue_amount=10, account_status="overdue")
    assert fields(validate_record(overdue)) == ["status_string"]
    assert fields(validate_record(row(maturity_date=dt.date(2025, 1, 1)))) == ["maturity_date"]
    assert fields(validate_record(row(status_string="N" * 23))) == ["status_string"]
    assert fields(validate_record(row(account_status="settled"))) == ["status_string", "balance"]
    assert fields(validate_record(row(account_number="L|1"))) == ["account_number"]


def test_ledger_consistency():
    [e] = validate_record(row(ledger_balance=80_000))
    assert e == {"field": "balance", "message": "余额 900.00 元与贷款本金分户账 800.00 元不一致。"}
    assert validate_record(row(ledger_balance=80_000), check_ledger=False) == []
