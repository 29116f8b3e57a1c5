"""The concentration report as .xlsx (through :mod:`credo.core.spreadsheet`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from credo.core.money import fen_to_yuan
from credo.core.spreadsheet import append, workbook_bytes

MONEY = "#,##0.00"


def _pct(value: Any) -> Any:
    return None if value is None else value / 100


def report_xlsx(report: Any) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = _("汇总")
    net = report.net_assets
    append(ws, [_("集中度报表"), report.day.isoformat()])
    append(
        ws,
        [_("净资产（元）"), fen_to_yuan(net.amount.fen) if net else _("未录入")],
        number_formats=["", MONEY],
    )
    append(ws, [_("净资产生效日期"), net.effective_date.isoformat() if net else ""])
    append(ws, [_("单一借款人上限（%）"), report.limits.single_pct])
    append(ws, [_("借款人及其关联方上限（%）"), report.limits.group_pct])
    append(ws, [_("前十大借款人合计上限（%）"), report.limits.top10_pct])
    append(
        ws,
        [_("前十大借款人授信敞口合计（元）"), fen_to_yuan(report.top10_total)],
        number_formats=["", MONEY],
    )
    append(ws, [_("占净资产"), _pct(report.top10_share)], number_formats=["", "0.00%"])
    if report.top10_headroom is not None:
        append(
            ws,
            [_("距上限余量（元）"), fen_to_yuan(report.top10_headroom)],
            number_formats=["", MONEY],
        )
    if report.warning:
        append(ws, [report.warning])
    header = [
        _("排名"),
        _("名称"),
        _("授信敞口（元）"),
        _("占净资产"),
        _("上限（%）"),
        _("距上限余量（元）"),
    ]
    fmts = ["", "", MONEY, "0.00%", "", MONEY]
    for title, rows, extra in (
        (_("前十大借款人"), report.borrowers, False),
        (_("关联方集团"), report.groups, True),
    ):
        sheet = wb.create_sheet(title)
        append(sheet, [*header, *([_("成员")] if extra else [])])
        for i, row in enumerate(rows, 1):
            append(
                sheet,
                [
                    i,
                    row.label,
                    fen_to_yuan(row.exposure),
                    _pct(row.share),
                    row.limit_pct,
                    None if row.headroom is None else fen_to_yuan(row.headroom),
                    *(["、".join(row.members)] if extra else []),
                ],
                number_formats=fmts,
            )
    return workbook_bytes(wb)
