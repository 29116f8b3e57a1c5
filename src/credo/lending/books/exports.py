"""Excel exports of the trial balance and the general ledger (through the one spreadsheet
writer, reproducible like the vouchers)."""

from __future__ import annotations

from decimal import Decimal

from credo.core.spreadsheet import append
from credo.lending.books.selectors import TrialBalance, ledger_days, ledger_lines
from credo.lending.books.vouchers import fixed_workbook, reproducible_bytes
from credo.lending.models import LedgerAccount, Loan

AMOUNT = "#,##0.00"


def _y(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


TB_HEADER = [
    "科目代码",
    "科目",
    "科目名称",
    "期初借方",
    "期初贷方",
    "本期借方",
    "本期贷方",
    "期末借方",
    "期末贷方",
]


def trial_balance_xlsx(tb: TrialBalance) -> bytes:
    wb = fixed_workbook()
    ws = wb.create_sheet(f"科目余额表 {tb.label}")
    formats = ["", "", "", *([AMOUNT] * 6)]
    append(ws, TB_HEADER)
    for r in tb.rows:
        append(
            ws,
            [
                r.export_code,
                r.code,
                r.name,
                _y(r.opening_debit),
                _y(r.opening_credit),
                _y(r.debit),
                _y(r.credit),
                _y(r.closing_debit),
                _y(r.closing_credit),
            ],
            number_formats=formats,
        )
    t = tb.totals
    append(
        ws,
        [
            "",
            "",
            "合计",
            _y(t["opening_debit"]),
            _y(t["opening_credit"]),
            _y(t["debit"]),
            _y(t["credit"]),
            _y(t["closing_debit"]),
            _y(t["closing_credit"]),
        ],
        number_formats=formats,
    )
    return reproducible_bytes(wb)


def general_ledger_xlsx(
    account: LedgerAccount, month, *, loan: Loan | None = None, max_lines: int = 1_000_000
) -> bytes:
    """总账 (by day) and 明细账 (every line with its running balance) of one account."""
    wb = fixed_workbook()
    label = month.strftime("%Y-%m")
    if loan is None:
        ws = wb.create_sheet("总账")
        opening, days = ledger_days(account, month)
        append(ws, ["日期", "摘要", "借方", "贷方", "余额"])
        fmts = ["", "", AMOUNT, AMOUNT, AMOUNT]
        append(ws, [f"{label}-01", "期初余额", None, None, _y(opening)], number_formats=fmts)
        for d in days:
            append(
                ws,
                [d.date.isoformat(), "本日合计", _y(d.debit), _y(d.credit), _y(d.balance)],
                number_formats=fmts,
            )
    ws = wb.create_sheet("明细账")
    opening, _total, lines = ledger_lines(account, month, loan=loan, limit=max_lines)
    append(ws, ["日期", "分录号", "类型", "摘要", "贷款编号", "借方", "贷方", "余额"])
    fmts = ["", "", "", "", "", AMOUNT, AMOUNT, AMOUNT]
    append(
        ws, [f"{label}-01", "", "", "期初余额", "", None, None, _y(opening)], number_formats=fmts
    )
    for ln in lines:
        append(
            ws,
            [
                ln.date.isoformat(),
                ln.entry_id,
                ln.kind,
                ln.memo,
                ln.loan_number,
                _y(ln.debit) if ln.debit else None,
                _y(ln.credit) if ln.credit else None,
                _y(ln.balance),
            ],
            number_formats=fmts,
        )
    return reproducible_bytes(wb)
