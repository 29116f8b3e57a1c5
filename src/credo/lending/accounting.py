"""Accounting export (会计凭证导出) for Kingdee / Yonyou import.

One CSV row per journal line: 凭证日期, 凭证号 (journal entry id), 摘要, 科目代码 (the account's
``export_code``, configurable per lender in the chart of accounts), 科目名称, 借方金额, 贷方金额
(yuan with two decimals, the other side empty), 贷款编号. UTF-8 with a BOM so Excel and the GL
import wizards read the Chinese headers; CRLF line ends.
"""

from __future__ import annotations

import datetime as dt

from credo.core.spreadsheet import csv_text
from credo.lending.models import JournalLine
from credo.lending.schedule import fen_to_str

HEADER = ["凭证日期", "凭证号", "摘要", "科目代码", "科目名称", "借方金额", "贷方金额", "贷款编号"]


def voucher_rows(date_from: dt.date, date_to: dt.date) -> list[list[str]]:
    lines = (
        JournalLine.objects.filter(
            entry__business_date__gte=date_from, entry__business_date__lte=date_to
        )
        .select_related("entry", "account", "loan")
        .order_by("entry__business_date", "entry_id", "id")
    )
    rows = []
    for line in lines.iterator(chunk_size=2000):
        entry = line.entry
        rows.append(
            [
                entry.business_date.isoformat(),
                str(entry.pk),
                entry.memo or entry.get_kind_display(),
                line.account.export_code or line.account.code,
                line.account.name,
                fen_to_str(line.debit.fen) if line.debit.fen else "",
                fen_to_str(line.credit.fen) if line.credit.fen else "",
                line.loan.number if line.loan is not None else "",
            ]
        )
    return rows


def voucher_csv(date_from: dt.date, date_to: dt.date) -> str:
    """The voucher lines of ``date_from``–``date_to`` (business dates, inclusive)."""
    if date_from > date_to:
        raise ValueError("date_from after date_to")
    # 摘要 is the entry memo (free text): the shared writer prefixes "=..." with an apostrophe;
    # amounts are plain numbers and stay as they are for the GL import.
    return csv_text(voucher_rows(date_from, date_to), header=HEADER, bom=True)
