"""Excel (openpyxl: numbers as numbers, formatted headers) and PDF (WeasyPrint, Chinese fonts,
a server-drawn SVG bar chart) exports of a query result."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import escape
from typing import Any

from credo.core import spreadsheet
from credo.core.money import fen_to_yuan
from credo.reports.datasets import Result, display_value

MONEY_FORMAT = "#,##0.00"
PCT_FORMAT = "0.00%"


def _cell_value(column: dict[str, Any], row: dict[str, Any]) -> Any:
    key = column["key"]
    if column["type"] == "dimension":
        value = row.get(f"{key}__label", row.get(key))
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date) and column["fmt"] == "month":
            return value.strftime("%Y-%m")
        return value if isinstance(value, int | dt.date) or value is None else str(value)
    value = row.get(key)
    if value is None:
        return None
    if column["fmt"] == "money":
        return fen_to_yuan(int(value))
    if column["fmt"] == "pct":
        return Decimal(value)
    return value


_SHEET_FORBIDDEN = re.compile(r"[\\/?*\[\]:\x00-\x1f\x7f]")


def sheet_title(title: str) -> str:
    """A report name as an Excel sheet name: none of \\ / ? * [ ] : (Excel and openpyxl refuse
    them), no control characters, at most 31 characters, not wrapped in apostrophes."""
    clean = _SHEET_FORBIDDEN.sub("-", title or "")[:31].strip().strip("'").strip()
    return clean or "报表"


#: dataset key → ``fn(user, result, title) -> bytes`` for a dataset whose Excel has a fixed layout
#: of its own (监管报表): saved reports, their scheduled deliveries and run exports use it.
fixed_xlsx_writers: dict[str, Any] = {}


def xlsx_for(dataset: str, user: Any, result: Result, title: str) -> bytes:
    writer = fixed_xlsx_writers.get(dataset)
    return writer(user, result, title) if writer is not None else to_xlsx(result, title)


def to_xlsx(result: Result, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(title)
    spreadsheet.append(ws, [c["label"] for c in result.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="206BC4")
        cell.alignment = Alignment(horizontal="center")
    for row in result.rows:
        # Dimension labels are data (a lead's campaign comes from the anonymous web form): the
        # shared writer keeps "=..." text; measures stay numbers.
        spreadsheet.append(ws, [_cell_value(c, row) for c in result.columns])
    for idx, column in enumerate(result.columns, 1):
        letter = get_column_letter(idx)
        fmt = {"money": MONEY_FORMAT, "pct": PCT_FORMAT}.get(column["fmt"])
        if column["type"] == "measure" and fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
                cell.number_format = fmt
        ws.column_dimensions[letter].width = max(12, len(str(column["label"])) * 2 + 4)
    ws.freeze_panes = "A2"
    return spreadsheet.workbook_bytes(wb)


def svg_bars(result: Result, width: int = 640, height: int = 260) -> str:
    """A plain SVG bar chart of the first measure by the first dimension (for PDF)."""
    dims = [c for c in result.columns if c["type"] == "dimension"]
    measures = [c for c in result.columns if c["type"] == "measure"]
    if not dims or not measures or not result.rows:
        return ""
    m = measures[0]
    rows = result.rows[:20]
    values = [float(r.get(m["key"]) or 0) for r in rows]
    top = max(values) or 1.0
    bar_w = (width - 60) / len(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
    for i, (row, v) in enumerate(zip(rows, values, strict=True)):
        h = (height - 60) * v / top
        x = 50 + i * bar_w
        y = height - 40 - h
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" '
            'fill="#206bc4"/>'
        )
        label = escape(display_value(dims[0], row))[:8]
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 24}" font-size="10" '
            f'text-anchor="middle">{label}</text>'
        )
    parts.append(f'<text x="50" y="14" font-size="11">{escape(str(m["label"]))}</text></svg>')
    return "".join(parts)


def to_pdf(result: Result, title: str, subtitle: str = "") -> bytes:
    from weasyprint import HTML

    head = "".join(f"<th>{escape(str(c['label']))}</th>" for c in result.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if c["type"] == "measure" else ""}">'
            f"{escape(display_value(c, r))}</td>"
            for c in result.columns
        )
        + "</tr>"
        for r in result.rows
    )
    html = f"""<html><head><meta charset="utf-8"><style>
      @page {{ size: A4; margin: 16mm; }}
      body {{ font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; font-size: 10pt; }}
      h1 {{ font-size: 15pt; margin: 0 0 4pt; }} .sub {{ color: #666; margin-bottom: 10pt; }}
      table {{ border-collapse: collapse; width: 100%; margin-top: 10pt; }}
      th, td {{ border: 1px solid #ccc; padding: 3pt 5pt; }} th {{ background: #eef3fb; }}
      td.num {{ text-align: right; }}
    </style></head><body>
      <h1>{escape(title)}</h1><div class="sub">{escape(subtitle)}</div>
      {svg_bars(result)}
      <table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
    </body></html>"""
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]
