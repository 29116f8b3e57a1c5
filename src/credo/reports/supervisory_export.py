"""Excel (fixed layout, openpyxl through :mod:`credo.core.spreadsheet`) and PDF (WeasyPrint, as
:mod:`credo.reports.exporting`) of a supervisory report built by
:func:`credo.reports.supervisory.build_report`.

The Excel layout is fixed: every section has the same rows in the same order every month
(buckets with no loans are printed as 0), so the cell of a figure never moves — row 1 the title,
rows 2–4 the lender's identity and the month, then 一、主要指标, the seven bucket tables and
前十大借款人, each after a one-row section title and a header row.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Any

from credo.core import spreadsheet
from credo.core.money import fen_to_yuan
from credo.reports.supervisory import display

MONEY_FORMAT = "#,##0.00"
PCT_FORMAT = "0.00%"
RATE_FORMAT = "0.00"
NUMERALS = "一二三四五六七八九十"


def _xl(value: Any, fmt: str) -> tuple[Any, str]:
    if value is None:
        return "—", ""
    if fmt == "money":
        return fen_to_yuan(int(value)), MONEY_FORMAT
    if fmt == "pct":
        return Decimal(value), PCT_FORMAT
    if fmt == "rate":
        return Decimal(value), RATE_FORMAT
    return value, ""


def section_titles(report: dict[str, Any]) -> list[str]:
    titles = ["主要指标"] + [s["title"] for s in report["sections"]] + ["前十大借款人"]
    return [f"{NUMERALS[i]}、{t}" for i, t in enumerate(titles)]


def to_xlsx(report: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "贷款统计月报"
    header_fill = PatternFill("solid", fgColor="DCE6F5")
    lender = report["lender"]
    gap = "【未配置】"
    spreadsheet.append(ws, [report["title"]])
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    spreadsheet.append(
        ws,
        [
            "填报机构：",
            lender.get("name") or gap,
            "",
            "统一社会信用代码：",
            lender.get("uscc") or gap,
        ],
    )
    spreadsheet.append(ws, ["机构住所：", lender.get("address") or gap])
    spreadsheet.append(
        ws,
        [
            "报表月份：",
            report["month"].strftime("%Y-%m"),
            "",
            "数据截止日：",
            report["month_end"].isoformat(),
            "",
            "金额单位：元",
        ],
    )
    titles = section_titles(report)

    def title_row(text: str) -> None:
        spreadsheet.append(ws, [])
        spreadsheet.append(ws, [text])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=12)

    def header_row(labels: list[str]) -> None:
        spreadsheet.append(ws, labels)
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
            cell.fill = header_fill
            cell.alignment = Alignment(horizontal="center", wrap_text=True)

    title_row(titles[0])
    header_row(["指标", "数值"])
    for label, value, fmt in report["indicators"]:
        v, f = _xl(value, fmt)
        spreadsheet.append(ws, [label, v], number_formats=["", f])
    for i, section in enumerate(report["sections"], 1):
        title_row(titles[i])
        header_row(["项目"] + [c[1] for c in report["columns"]])
        for row in section["rows"]:
            values, formats = [row["label"]], [""]
            for key, _label, fmt in report["columns"]:
                v, f = _xl(row[key], fmt)
                values.append(v)
                formats.append(f)
            spreadsheet.append(ws, values, number_formats=formats)
            if row.get("total"):
                for cell in ws[ws.max_row]:
                    cell.font = Font(bold=True)
    title_row(titles[-1])
    header_row([c[1] for c in report["top_columns"]])
    for n in range(10):  # always ten rows: the layout does not move
        row = report["top"][n] if n < len(report["top"]) else {"rank": n + 1}
        values, formats = [], []
        for key, _label, fmt in report["top_columns"]:
            v, f = _xl(row.get(key), fmt) if key in row else ("", "")
            values.append(v)
            formats.append(f)
        spreadsheet.append(ws, values, number_formats=formats)
    v, f = _xl(report["top_share"], "pct")
    spreadsheet.append(
        ws, ["", "前十大合计占比", "", "", "", v], number_formats=["", "", "", "", "", f]
    )
    widths = [34, 20, 12, 22, 22, 14, 20, 20, 22]
    for idx, width in enumerate(widths, 1):
        ws.column_dimensions[chr(64 + idx)].width = width
    ws.freeze_panes = "A5"
    return spreadsheet.workbook_bytes(wb)


def to_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML document (the PDF's source)."""
    lender = report["lender"]
    gap = "【未配置】"
    titles = section_titles(report)
    parts = [
        f"<h1>{escape(report['title'])}</h1>",
        '<table class="head"><tr>'
        f"<td>填报机构：{escape(lender.get('name') or gap)}</td>"
        f"<td>统一社会信用代码：{escape(lender.get('uscc') or gap)}</td></tr>"
        f"<tr><td>机构住所：{escape(lender.get('address') or gap)}</td>"
        f"<td>数据截止日：{report['month_end'].isoformat()}　金额单位：元</td></tr></table>",
        f"<h2>{titles[0]}</h2><table><tr><th>指标</th><th>数值</th></tr>",
    ]
    for label, value, fmt in report["indicators"]:
        parts.append(f'<tr><td>{escape(label)}</td><td class="num">{display(value, fmt)}</td></tr>')
    parts.append("</table>")
    head = "".join(f"<th>{escape(c[1])}</th>" for c in report["columns"])
    for i, section in enumerate(report["sections"], 1):
        parts.append(f"<h2>{titles[i]}</h2><table><tr><th>项目</th>{head}</tr>")
        for row in section["rows"]:
            cls = ' class="total"' if row.get("total") else ""
            cells = "".join(
                f'<td class="num">{display(row[key], fmt)}</td>'
                for key, _label, fmt in report["columns"]
            )
            parts.append(f"<tr{cls}><td>{escape(row['label'])}</td>{cells}</tr>")
        parts.append("</table>")
    parts.append(
        f"<h2>{titles[-1]}</h2><table><tr>"
        + "".join(f"<th>{escape(c[1])}</th>" for c in report["top_columns"])
        + "</tr>"
    )
    for row in report["top"]:
        parts.append(
            "<tr>"
            + "".join(
                f'<td class="{"num" if fmt != "text" else ""}">{escape(display(row[key], fmt))}</td>'
                for key, _label, fmt in report["top_columns"]
            )
            + "</tr>"
        )
    parts.append(
        f'<tr class="total"><td></td><td>前十大合计占比</td><td></td><td></td><td></td>'
        f'<td class="num">{display(report["top_share"], "pct")}</td></tr></table>'
    )
    return f"""<html><head><meta charset="utf-8"><style>
      @page {{ size: A4 landscape; margin: 12mm; }}
      body {{ font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; font-size: 8.5pt; }}
      h1 {{ font-size: 14pt; text-align: center; margin: 0 0 6pt; }}
      h2 {{ font-size: 10.5pt; margin: 10pt 0 3pt; }}
      table {{ border-collapse: collapse; width: 100%; }}
      th, td {{ border: 1px solid #bbb; padding: 2pt 4pt; }} th {{ background: #eef3fb; }}
      table.head td {{ border: none; padding: 1pt 0; }}
      td.num {{ text-align: right; }} tr.total td {{ font-weight: bold; }}
    </style></head><body>{"".join(parts)}</body></html>"""


def to_pdf(report: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    return HTML(string=to_html(report)).write_pdf()  # type: ignore[no-any-return]
