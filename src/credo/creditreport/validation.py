"""Validation of a record before export: identity checksums (GB 11643 居民身份证号, GB 32100
统一社会信用代码), field rules and consistency with the ledger (the reported balance equals the
loan's 贷款本金 sub-ledger at the month end). Each finding names the field and says in Chinese
what is wrong; a record with findings blocks the approval of its submission."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

from credo.core.validators import validate_id_number, validate_uscc
from credo.creditreport import compute
from credo.creditreport.build import ID_CARD, USCC

FIVE_CLASSES = {"normal", "special_mention", "substandard", "doubtful", "loss"}
FREQUENCIES = {"monthly", "quarterly", "once"}
GUARANTEES = {"credit", "guarantee", "mortgage", "pledge", "combined"}
ACCOUNT_STATUSES = {
    compute.ACCOUNT_OPEN,
    compute.ACCOUNT_OVERDUE,
    compute.ACCOUNT_SETTLED,
    compute.ACCOUNT_WRITTEN_OFF,
}
FORBIDDEN = ("|", "\n", "\r", "\t")


def _fen(value: Any) -> int:
    fen = getattr(value, "fen", None)
    return int(fen if fen is not None else (value or 0))


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def _error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def validate_record(
    row: Mapping[str, Any], *, check_ledger: bool = True, today: dt.date | None = None
) -> list[dict[str, str]]:
    """The findings for one record (empty: valid)."""
    errors: list[dict[str, str]] = []
    _identity(row, errors, today)
    _dates(row, errors)
    balance = _amounts(row, errors)
    _status(row, errors, balance)
    ledger = row.get("ledger_balance")
    if check_ledger and ledger is not None and int(ledger) != balance:
        errors.append(
            _error(
                "balance",
                f"余额 {_yuan(balance)} 元与贷款本金分户账 {_yuan(int(ledger))} 元不一致。",
            )
        )
    return errors


def _identity(row: Mapping[str, Any], errors: list[dict[str, str]], today: Any) -> None:
    name = (row.get("borrower_name") or "").strip()
    if not name:
        errors.append(_error("borrower_name", "借款人名称为空。"))
    for field in ("borrower_name", "account_number"):
        if any(ch in (row.get(field) or "") for ch in FORBIDDEN):
            errors.append(_error(field, "包含不允许的字符（竖线、换行或制表符）。"))
    errors.extend(
        dict(e) for e in _identity_errors(row.get("id_type"), row.get("id_number") or "", today)
    )


@functools.lru_cache(maxsize=65536)
def _identity_errors(id_type: Any, id_number: str, today: Any) -> tuple[dict[str, str], ...]:
    """The identity findings (cached: a borrower with many loans is checked once)."""
    if id_type == ID_CARD:
        if not id_number:
            return (_error("id_number", "个人借款人缺少身份证号。"),)
        try:
            validate_id_number(id_number, today=today)
        except ValidationError as exc:
            return (_error("id_number", " ".join(str(m) for m in exc.messages)),)
        return ()
    if id_type == USCC:
        if not id_number:
            return (_error("id_number", "企业借款人缺少统一社会信用代码。"),)
        try:
            validate_uscc(id_number)
        except ValidationError as exc:
            return (_error("id_number", " ".join(str(m) for m in exc.messages)),)
        return ()
    return (_error("id_type", f"未知的证件类型：{id_type}"),)


def _dates(row: Mapping[str, Any], errors: list[dict[str, str]]) -> None:
    if not (row.get("account_number") or "").strip():
        errors.append(_error("account_number", "账户编号为空。"))
    month: dt.date = row["month"]
    last = compute.month_last(compute.month_index(month))
    open_date, maturity = row.get("open_date"), row.get("maturity_date")
    if open_date is None:
        errors.append(_error("open_date", "开立日期为空。"))
    elif open_date > last:
        errors.append(_error("open_date", f"开立日期 {open_date} 晚于数据月末 {last}。"))
    if maturity is None:
        errors.append(_error("maturity_date", "到期日期为空。"))
    elif open_date is not None and maturity < open_date:
        errors.append(_error("maturity_date", f"到期日期 {maturity} 早于开立日期 {open_date}。"))


def _amounts(row: Mapping[str, Any], errors: list[dict[str, str]]) -> int:
    amount, balance = _fen(row.get("amount")), _fen(row.get("balance"))
    if amount <= 0:
        errors.append(_error("amount", "借款金额应大于 0。"))
    if balance < 0:
        errors.append(_error("balance", "余额不能为负数。"))
    elif balance > amount > 0:
        errors.append(
            _error("balance", f"余额 {_yuan(balance)} 元大于借款金额 {_yuan(amount)} 元。")
        )
    if row.get("currency") != "CNY":
        errors.append(_error("currency", "币种应为 CNY。"))
    if row.get("repayment_frequency") not in FREQUENCIES:
        errors.append(_error("repayment_frequency", "还款频率无效。"))
    if row.get("guarantee_type") not in GUARANTEES:
        errors.append(_error("guarantee_type", "担保方式无效。"))
    if row.get("five_class") not in FIVE_CLASSES:
        errors.append(_error("five_class", "五级分类无效。"))
    periods = int(row.get("overdue_periods") or 0)
    overdue_amount = _fen(row.get("overdue_amount"))
    overdue_principal = _fen(row.get("overdue_principal"))
    if (periods == 0) != (overdue_amount == 0):
        errors.append(
            _error("overdue_amount", "当前逾期期数与当前逾期总额不一致（一个为 0，另一个不为 0）。")
        )
    if overdue_principal > balance:
        errors.append(_error("overdue_principal", "逾期本金大于余额。"))
    return balance


def _status(row: Mapping[str, Any], errors: list[dict[str, str]], balance: int) -> None:
    status = row.get("account_status")
    text = row.get("status_string") or ""
    if status not in ACCOUNT_STATUSES:
        errors.append(_error("account_status", "账户状态无效。"))
    if not compute.valid_status_string(text):
        errors.append(_error("status_string", "24个月还款状态应为 24 位，且只含 / * N C G D 1-7。"))
    elif status == compute.ACCOUNT_SETTLED and text[-1] != "C":
        errors.append(_error("status_string", "账户已结清，但当月还款状态不是 C。"))
    elif status == compute.ACCOUNT_WRITTEN_OFF and text[-1] != "G":
        errors.append(_error("status_string", "账户已核销，但当月还款状态不是 G。"))
    elif status == compute.ACCOUNT_OVERDUE and text[-1] not in "1234567":
        errors.append(_error("status_string", "账户逾期，但当月还款状态不是逾期期数。"))
    if status in (compute.ACCOUNT_SETTLED, compute.ACCOUNT_WRITTEN_OFF) and balance:
        errors.append(_error("balance", "已结清或已核销的账户余额应为 0。"))
