"""The provision report as .xlsx (through :mod:`credo.core.spreadsheet`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from credo.core.money import fen_to_yuan
from credo.core.spreadsheet import append, workbook_bytes

MONEY = "#,##0.00"


def report_xlsx(report: Any) -> bytes:
    from openpyxl import Workbook

    run = report.run
    wb = Workbook()
    ws = wb.active
    ws.title = _("按五级分类")
    append(ws, [_("贷款损失准备计提表"), run.label if run else ""])
    if run is not None:
        append(ws, [_("计提日期"), run.month_end.isoformat()])
        append(ws, [_("计提次序"), run.sequence])
        append(ws, [_("计提比例版本"), run.rates_used.get("version", "")])
    header = [
        _("五级分类"),
        _("贷款笔数"),
        _("贷款余额（元）"),
        _("一般准备比例（%）"),
        _("专项准备比例（%）"),
        _("一般准备（元）"),
        _("专项准备（元）"),
        _("应计提准备（元）"),
    ]
    fmts = ["", "", MONEY, "", "", MONEY, MONEY, MONEY]
    append(ws, header)
    for r in report.by_class:
        append(ws, _class_row(r), number_formats=fmts)
    t = report.totals
    append(
        ws,
        [
            _("合计"),
            t["loans"],
            fen_to_yuan(t["balance"]),
            None,
            None,
            fen_to_yuan(t["general"]),
            fen_to_yuan(t["specific"]),
            fen_to_yuan(t["required"]),
        ],
        number_formats=fmts,
    )
    sheet = wb.create_sheet(_("按产品和分类"))
    append(sheet, [_("产品"), *header])
    for r in report.rows:
        append(sheet, [r.product, *_class_row(r)], number_formats=["", *fmts])
    sheet = wb.create_sheet(_("按产品计提"))
    append(
        sheet,
        [
            _("产品"),
            _("贷款余额（元）"),
            _("应计提准备（元）"),
            _("计提前准备余额（元）"),
            _("本次计提（元，负数为转回）"),
            _("当前准备余额（元）"),
        ],
    )
    for p in report.products:
        append(
            sheet,
            [
                p.product,
                fen_to_yuan(p.balance),
                fen_to_yuan(p.required),
                fen_to_yuan(p.previous),
                fen_to_yuan(p.amount),
                fen_to_yuan(p.gl_now),
            ],
            number_formats=["", MONEY, MONEY, MONEY, MONEY, MONEY],
        )
    return workbook_bytes(wb)


def _class_row(r: Any) -> list[Any]:
    return [
        r.label,
        r.loans,
        fen_to_yuan(r.balance),
        r.general_pct.normalize(),
        r.specific_pct.normalize(),
        fen_to_yuan(r.general),
        fen_to_yuan(r.specific),
        fen_to_yuan(r.required),
    ]
