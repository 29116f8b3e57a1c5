"""Reading a bank statement file (CSV in UTF-8 / GBK, or .xlsx) into credit lines.

The file is read with :mod:`credo.core.tabular` (encoding detection, Excel); the header row is
searched in the first rows (bank exports start with a title block) and mapped with the column
aliases below, in priority order (贷方发生额 before 金额).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from credo.core import tabular
from credo.core.money import Money
from credo.lending.errors import LendingError

COLUMNS: dict[str, tuple[str, ...]] = {
    "txn_date": ("交易日期", "日期", "记账日期", "交易时间", "入账日期"),
    "amount": ("贷方发生额", "贷方金额", "收入金额", "收入", "金额", "交易金额"),
    "payer_name": ("对方户名", "付款人", "付款人名称", "付款方户名", "对方名称"),
    "payer_account": ("对方账号", "付款账号", "付款人账号", "付款方账号"),
    "summary": ("摘要",),
    "note": ("附言", "用途", "备注", "摘要/附言"),
    "bank_txn_id": ("流水号", "交易流水号", "银行流水号", "凭证号"),
    "direction": ("借贷标志", "借贷方向", "收支标志", "收/支"),
}
CREDIT_FLAGS = ("贷", "收", "入", "C", "c")
HEADER_SCAN_ROWS = 20


class StatementFileError(LendingError):
    code = "statement_file"


def _table(data: bytes, filename: str) -> Iterator[list[Any]]:
    try:
        return tabular.raw_rows(data, filename)
    except tabular.TableError as exc:
        raise StatementFileError(exc.message()) from None


def _header_map(row: Iterable[Any]) -> dict[str, int]:
    cells = [str(c).strip() if c is not None else "" for c in row]
    found: dict[str, int] = {}
    for key, aliases in COLUMNS.items():
        for alias in aliases:  # aliases in priority order (贷方发生额 before 金额)
            if alias in cells:
                found[key] = cells.index(alias)
                break
    return found


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    text = text.split(" ")[0].split("T")[0].replace("/", "-").replace(".", "-")
    text = text.replace("年", "-").replace("月", "-").replace("日", "")
    try:
        if re.fullmatch(r"\d{8}", text):
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        y, m, d = (int(p) for p in text.split("-"))
        return dt.date(y, m, d)
    except ValueError:
        return None


def _parse_amount(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):  # openpyxl numbers: go through repr, never float arithmetic
        value = repr(value)
    text = str(value).strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return Money(amount).fen


def parse_statement(data: bytes, filename: str) -> tuple[list[dict[str, Any]], int]:
    """Rows of credit lines ``{row_number, txn_date, amount, payer_name, …}`` and the number of
    rows skipped (debits, blank or unreadable lines)."""
    rows = _table(data, filename)
    header: dict[str, int] = {}
    row_number = 0
    for row in rows:
        row_number += 1
        header = _header_map(row)
        if "txn_date" in header and "amount" in header:
            break
        if row_number >= HEADER_SCAN_ROWS:
            header = {}
            break
    if "txn_date" not in header or "amount" not in header:
        raise StatementFileError(_("未找到“交易日期”和“金额/贷方发生额”列标题。"))

    def cell(row: list[Any], key: str) -> str:
        idx = header.get(key)
        if idx is None or idx >= len(row) or row[idx] is None:
            return ""
        return str(row[idx]).strip()

    lines: list[dict[str, Any]] = []
    skipped = 0
    for row in rows:
        row_number += 1
        if not any(c not in (None, "") for c in row):
            continue
        idx_d, idx_a = header["txn_date"], header["amount"]
        txn_date = _parse_date(row[idx_d] if idx_d < len(row) else None)
        amount = _parse_amount(row[idx_a] if idx_a < len(row) else None)
        direction = cell(row, "direction")
        is_debit = bool(direction) and not any(f in direction for f in CREDIT_FLAGS)
        if txn_date is None or amount is None or amount <= 0 or is_debit:
            skipped += 1
            continue
        reference = " ".join(p for p in (cell(row, "summary"), cell(row, "note")) if p)
        lines.append(
            {
                "row_number": row_number,
                "txn_date": txn_date,
                "amount": amount,
                "payer_name": cell(row, "payer_name")[:120],
                "payer_account": cell(row, "payer_account").replace(" ", "")[:40],
                "reference": reference[:200],
                "bank_txn_id": cell(row, "bank_txn_id")[:80],
            }
        )
    return lines, skipped
