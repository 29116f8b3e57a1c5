"""The one spreadsheet writer: every .xlsx and .csv that Credo hands out goes through here.

Formula injection (OWASP "CSV injection"): text that starts with ``= + - @``, a tab, a carriage
return or a line feed is a formula to Excel/WPS/LibreOffice — ``=HYPERLINK(...)`` in a customer
address or ``=cmd|' /C calc'!A0`` in a lead's campaign (the public web form accepts it
anonymously) would run in the exporting employee's spreadsheet. So:

* **.xlsx** (openpyxl): openpyxl itself stores any string starting with ``=`` as a formula. A
  dangerous string is written as a text cell (``data_type = "s"``) with Excel's *quote prefix*
  style, so it is shown as typed, is not evaluated, and stays text when a user edits the cell;
  the stored value is unchanged (an exported file re-imports to the same data).
* **.csv**: there are no cell types, so a dangerous string gets a leading apostrophe ``'``.
  Strings that are plain numbers (``-12.50``) are left alone: they cannot carry a formula and the
  accounting import wizards must read them as numbers.

Only strings are touched: numbers, dates and ``None`` pass unchanged, so a negative amount stays
a numeric cell.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def is_formula_like(value: Any) -> bool:
    """True for a string a spreadsheet would read as a formula (also after leading spaces, which
    some spreadsheets skip)."""
    if not isinstance(value, str) or not value:
        return False
    return value.startswith(FORMULA_TRIGGERS) or value.lstrip(" ").startswith(FORMULA_TRIGGERS)


def csv_value(value: Any) -> Any:
    """``value`` safe for a CSV cell: formula-like text prefixed with ``'``; plain numbers (as
    numbers or numeric strings) and everything that is not a string unchanged."""
    if is_formula_like(value) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


class CsvWriter:
    """``csv.writer`` whose rows are neutralized with :func:`csv_value`."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_value(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(
    rows: Iterable[Iterable[Any]], *, header: Sequence[Any] = (), bom: bool = False
) -> str:
    """Rows (and a header) as CSV text with CRLF line ends; ``bom`` for Excel and the GL import
    wizards to read UTF-8 Chinese headers."""
    buf = io.StringIO()
    writer = CsvWriter(buf, lineterminator="\r\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "") + buf.getvalue()


def cell(ws: Any, value: Any, *, number_format: str = "") -> Any:
    """An openpyxl cell for ``ws`` (normal or write-only) holding ``value`` safely: formula-like
    text becomes a quote-prefixed text cell. Style it, then pass it to :func:`append`."""
    from openpyxl.cell import Cell, WriteOnlyCell

    out = value if isinstance(value, Cell) else WriteOnlyCell(ws, value=value)
    if is_formula_like(out.value):
        out.data_type = "s"
        out.quotePrefix = True
    if number_format and out.value is not None:
        out.number_format = number_format
    return out


def append(ws: Any, values: Iterable[Any], *, number_formats: Sequence[str] = ()) -> None:
    """``ws.append(values)`` through :func:`cell`: the only way rows get into a worksheet.
    ``number_formats`` (by position, "" for none) applies to non-empty values."""
    from openpyxl.cell import Cell

    formats = list(number_formats)
    row: list[Any] = []
    for i, v in enumerate(values):
        fmt = formats[i] if i < len(formats) else ""
        if isinstance(v, Cell) or is_formula_like(v) or (fmt and v is not None):
            row.append(cell(ws, v, number_format=fmt))
        else:
            row.append(v)  # plain values: openpyxl stores non-"=" text and numbers as such
    ws.append(row)


def workbook_bytes(wb: Any) -> bytes:
    """The saved .xlsx as bytes."""
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
