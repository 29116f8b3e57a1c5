"""One reader for the spreadsheets users upload: Excel (.xlsx/.xlsm) or CSV.

Customer import, lead import and the scorecard's CSV training upload all read "a table with a
header row" the same way:

* :func:`read_bytes` — a path, bytes, a file object or a Django upload → bytes;
* :func:`decode_csv` — CSV bytes → text: UTF-8 with or without BOM, else GB18030 (a superset of
  GBK, which is what Excel saves as "CSV" on a Chinese Windows);
* :func:`raw_rows` — the cells of the first worksheet or of the CSV, row by row;
* :class:`HeaderMap` — canonical field ← accepted header aliases (Chinese and English), compared
  after :func:`norm_header` (spaces, brackets, ``*`` and colons removed, case-insensitive);
* :func:`read_table` — skips leading blank lines, maps the header, yields ``(row number as the
  user sees it, {field: value})`` for every non-blank row;
* :class:`RowError` — a row's error as data (row number, column label, message).

A file that cannot be read raises :class:`TableError` with a ``code``; each caller turns it into
its own domain error (:meth:`TableError.message` gives the shared Chinese message). No Django
at import time: the scorecard engine uses :func:`decode_csv` without a database or settings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

CSV_ENCODINGS = ("utf-8-sig", "gb18030")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_HEADER_NOISE = " \t\r\n()（）*＊:："


def _(text: str) -> str:
    """Translate lazily (marks the message for ``makemessages``; Django imported on use)."""
    from django.utils.translation import gettext

    return gettext(text)


class TableError(ValueError):
    """The file cannot be read as a table. ``code`` is one of ``encoding``, ``excel``,
    ``format``, ``empty``, ``too_many_rows``; ``params`` fill the message."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code, params)

    def message(self) -> str:
        """The shared (translated) Chinese message for this error."""
        if self.code == "encoding":
            return _("无法识别 CSV 文件编码，请另存为 UTF-8 或 GBK。")
        if self.code == "excel":
            return _("无法读取 Excel 文件：%(err)s") % self.params
        if self.code == "format":
            return _("只支持 .xlsx 或 .csv 文件。")
        if self.code == "empty":
            return _("文件是空的。")
        if self.code == "too_many_rows":
            return _("一次最多导入 %(n)s 行，请拆分文件。") % self.params
        return str(self.code)  # pragma: no cover - every code is listed above


@dataclass(frozen=True)
class RowError:
    """One error of one row: the row number as the user sees it in Excel (header = row 1),
    the column label and the (Chinese) message."""

    row_number: int
    column_label: str
    message_zh: str


# --- bytes and text ---------------------------------------------------------------------------
def read_bytes(source: Any) -> bytes:
    """The content of a path, bytes, a Django upload (``chunks()``) or a file object."""
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    if isinstance(source, str | PurePath):
        with open(source, "rb") as fh:
            return fh.read()
    if hasattr(source, "chunks"):
        return b"".join(source.chunks())
    data = source.read()
    return data.encode() if isinstance(data, str) else bytes(data)


def decode_csv(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), else GB18030/GBK.

    Raises :class:`TableError` (``encoding``) when neither decodes."""
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("encoding")


def csv_rows(text: str) -> Iterator[list[str]]:
    """The rows of CSV text (``csv`` module defaults: comma, double quotes)."""
    return csv.reader(io.StringIO(text, newline=""))


def raw_rows(data: bytes, filename: str) -> Iterator[list[Any]]:
    """The cells of a CSV (decoded with :func:`decode_csv`) or of the first worksheet of an
    Excel file, row by row (the workbook is closed when the iterator is exhausted or closed)."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        return iter(csv_rows(decode_csv(data)))
    if suffix in EXCEL_SUFFIXES:
        return _excel_rows(data)
    raise TableError("format")


def _excel_rows(data: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 — BadZipFile, KeyError, InvalidFileException … from a user file
        raise TableError("excel", err=exc) from None

    def rows() -> Iterator[list[Any]]:
        try:
            for row in wb.worksheets[0].iter_rows(values_only=True):
                yield list(row)
        finally:
            wb.close()

    return rows()


# --- header -----------------------------------------------------------------------------------
def norm_header(text: Any) -> str:
    """A header label as compared: spaces, brackets, ``*`` and colons removed, lower case."""
    value = "" if text is None else str(text)
    for ch in _HEADER_NOISE:
        value = value.replace(ch, "")
    return value.lower()


@dataclass(frozen=True)
class Column:
    index: int
    target: str  # the canonical field (or what the caller's extra lookup returned)
    label: str  # the header as written in the file


@dataclass
class HeaderMap:
    """Canonical fields and the header aliases accepted for them.

    ``aliases`` maps an accepted header (any spelling :func:`norm_header` normalises the same)
    to its field; ``extra`` is consulted for headers not in ``aliases`` (e.g. custom fields)."""

    aliases: Mapping[str, str]
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lookup = {norm_header(k): v for k, v in self.aliases.items()}
        self._extra = {norm_header(k): v for k, v in self.extra.items()}

    def target(self, label: Any) -> str | None:
        key = norm_header(label)
        return self._lookup.get(key, self._extra.get(key))

    def map(self, header: Iterable[Any]) -> tuple[list[Column], list[str]]:
        """The recognised columns and the labels of the unrecognised (non-empty) ones."""
        columns: list[Column] = []
        unknown: list[str] = []
        for idx, raw in enumerate(header):
            label = "" if raw is None else str(raw).strip()
            if not label:
                continue
            target = self.target(label)
            if target is None:
                unknown.append(label)
            else:
                columns.append(Column(idx, target, label))
        return columns, unknown


# --- rows -------------------------------------------------------------------------------------
def is_blank_row(cells: Iterable[Any]) -> bool:
    return not any(c not in (None, "") and str(c).strip() for c in cells)


@dataclass
class Table:
    """What :func:`read_table` read: the recognised columns, the unknown header labels and
    ``(row number, {target: value})`` for every non-blank data row."""

    columns: list[Column]
    unknown: list[str]
    records: list[tuple[int, dict[str, Any]]]


def read_table(
    rows: Iterable[Iterable[Any]],
    header: HeaderMap,
    *,
    cell: Callable[[Any], Any] = lambda v: v,
    check_header: Callable[[list[Column]], None] | None = None,
    max_rows: int | None = None,
    max_rows_label: str | None = None,
    first_row: int = 1,
) -> Table:
    """Read a table whose first non-blank row is the header.

    ``cell`` converts every value (missing trailing cells are passed as ``None``);
    ``check_header`` may raise the caller's error for a missing required column; more than
    ``max_rows`` data rows raise :class:`TableError` (``too_many_rows``, ``n`` =
    ``max_rows_label`` or the number); a file without any header raises ``empty``.
    """
    columns: list[Column] | None = None
    unknown: list[str] = []
    records: list[tuple[int, dict[str, Any]]] = []
    for number, raw in enumerate(rows, start=first_row):
        cells = list(raw)
        if columns is None:
            if not any(c not in (None, "") for c in cells):
                continue  # leading blank lines
            columns, unknown = header.map(cells)
            if check_header is not None:
                check_header(columns)
            continue
        if is_blank_row(cells):
            continue
        width = len(cells)
        records.append(
            (number, {c.target: cell(cells[c.index] if c.index < width else None) for c in columns})
        )
        if max_rows is not None and len(records) > max_rows:
            raise TableError("too_many_rows", n=max_rows_label or max_rows)
    if columns is None:
        raise TableError("empty")
    return Table(columns, unknown, records)


def read_file(
    source: Any,
    filename: str,
    header: HeaderMap,
    **options: Any,
) -> Table:
    """:func:`read_table` of an uploaded .xlsx or .csv (``options`` as for ``read_table``)."""
    rows = raw_rows(read_bytes(source), filename)
    try:
        return read_table(rows, header, **options)
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()
