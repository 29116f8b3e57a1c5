"""Pluggable writers of a submission's file (征信报送文件).

A writer turns a submission and its records into bytes. Three reference writers ship with Credo
(the layout is documented field by field in docs/credit-reporting.md):

* ``reference-text`` — one line per record, fields separated by ``|``, UTF-8 or GB18030;
* ``reference-fixed`` — the same fields at fixed byte widths (GB18030 or UTF-8), no separator;
* ``reference-xlsx`` — one sheet with a Chinese header row.

The official message formats (人行二代 个人/企业借贷账户信息, 百行征信) plug in as further
writers: ``register_writer(Writer(key="pboc2-personal", ...))`` in an app's ``ready()``; the
field mapping in the docs says where each of their data items comes from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from credo.core.registry import Registry
from credo.creditreport.errors import InvalidInput

WriteFn = Callable[[Any, Iterable[Any], str], bytes]


@dataclass(frozen=True)
class Writer:
    key: str
    label: str
    extension: str
    content_type: str
    encodings: tuple[str, ...]
    write: WriteFn


writers: Registry[Writer] = Registry("credit-report writers", on_duplicate="replace")


def register_writer(writer: Writer) -> Writer:
    writers.register(writer.key, writer)
    return writer


def get_writer(key: str) -> Writer:
    w = writers.get(key)
    if w is None:
        raise InvalidInput(
            f"未知的报送文件格式：{key}（可选：{'、'.join(x.key for x in writers)}）"
        )
    return w


# --- the reference layout --------------------------------------------------------------------
RECORD_TYPE = {"monthly": "M", "correction": "C", "deletion": "D"}
ID_TYPE = {"id_card": "10", "uscc": "20"}
FREQUENCY = {"monthly": "M", "quarterly": "Q", "once": "O"}
GUARANTEE = {"pledge": "1", "mortgage": "2", "guarantee": "3", "credit": "4", "combined": "5"}
FIVE_CLASS = {
    "normal": "1",
    "special_mention": "2",
    "substandard": "3",
    "doubtful": "4",
    "loss": "5",
}
ACCOUNT_STATUS = {"open": "1", "overdue": "2", "settled": "3", "written_off": "4"}
EVENT = {
    "extension": "EXT",
    "restructure": "RST",
    "refinance": "RFN",
    "write_off": "WOF",
    "early_settlement": "ESL",
}


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _yuan(value: Any) -> str:
    fen = int(getattr(value, "fen", value) or 0)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _events(events: Sequence[dict[str, Any]]) -> str:
    return ";".join(
        f"{EVENT.get(e.get('kind', ''), e.get('kind', ''))}:{e.get('date', '')}"
        for e in events or ()
    )


@dataclass(frozen=True)
class Field:
    code: str
    label: str
    width: int  # bytes in the fixed layout
    get: Callable[[Any], str]
    numeric: bool = False


FIELDS: tuple[Field, ...] = (
    Field("record_type", "记录类型", 1, lambda r: RECORD_TYPE.get(r.kind, r.kind)),
    Field("data_month", "数据月份", 7, lambda r: f"{r.month:%Y-%m}"),
    Field("account_number", "账户编号", 40, lambda r: r.account_number),
    Field("borrower_name", "借款人名称", 80, lambda r: r.borrower_name),
    Field("id_type", "证件类型", 2, lambda r: ID_TYPE.get(r.id_type, r.id_type)),
    Field("id_number", "证件号码", 18, lambda r: r.id_number or ""),
    Field("open_date", "开立日期", 10, lambda r: _date(r.open_date)),
    Field("maturity_date", "到期日期", 10, lambda r: _date(r.maturity_date)),
    Field("currency", "币种", 3, lambda r: r.currency),
    Field("amount", "借款金额", 16, lambda r: _yuan(r.amount), True),
    Field("repayment_method", "还款方式", 32, lambda r: r.repayment_method),
    Field("repayment_frequency", "还款频率", 1, lambda r: FREQUENCY.get(r.repayment_frequency, "")),
    Field("guarantee_type", "担保方式", 1, lambda r: GUARANTEE.get(r.guarantee_type, "")),
    Field("balance", "余额", 16, lambda r: _yuan(r.balance), True),
    Field("five_class", "五级分类", 1, lambda r: FIVE_CLASS.get(r.five_class, "")),
    Field("overdue_periods", "当前逾期期数", 3, lambda r: str(r.overdue_periods), True),
    Field("overdue_amount", "当前逾期总额", 16, lambda r: _yuan(r.overdue_amount), True),
    Field("overdue_principal", "逾期本金", 16, lambda r: _yuan(r.overdue_principal), True),
    Field("overdue_days", "逾期天数", 5, lambda r: str(r.overdue_days), True),
    Field("due_in_month", "本月应还", 16, lambda r: _yuan(r.due_in_month), True),
    Field("account_status", "账户状态", 1, lambda r: ACCOUNT_STATUS.get(r.account_status, "")),
    Field("status_string", "24个月还款状态", 24, lambda r: r.status_string),
    Field("closed_on", "结清/核销日期", 10, lambda r: _date(r.closed_on)),
    Field("events", "特殊事件", 80, lambda r: _events(r.events)),
)
LAYOUT_VERSION = "CREDO-CR-REF-1"


def _clean(text: str) -> str:
    return " ".join(str(text).replace("|", "／").split())


def _header(submission: Any, count: int) -> list[str]:
    from credo.core.lender import lender

    who = lender()
    return [
        "H",
        LAYOUT_VERSION,
        who.uscc,
        _clean(who.name),
        f"{submission.month:%Y-%m}",
        str(submission.pk),
        str(count),
    ]


def _rows(records: Iterable[Any]) -> list[list[str]]:
    return [[_clean(f.get(r)) for f in FIELDS] for r in records]


def _trailer(rows: list[list[str]]) -> list[str]:
    bal = FIELDS.index(next(f for f in FIELDS if f.code == "balance"))
    total = sum(round(float(r[bal]) * 100) for r in rows if r[bal])
    return ["T", str(len(rows)), _yuan(total)]


def write_text(submission: Any, records: Iterable[Any], encoding: str) -> bytes:
    rows = _rows(records)
    lines = ["|".join(_header(submission, len(rows)))]
    lines += ["|".join(["D", *r]) for r in rows]
    lines.append("|".join(_trailer(rows)))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def fit(text: str, width: int, encoding: str, *, right: bool = False) -> bytes:
    """``text`` encoded and padded with spaces to exactly ``width`` bytes; cut at a character
    boundary when too long (a GB18030 汉字 is 2 bytes, a UTF-8 one 3)."""
    data = text.encode(encoding)
    if len(data) > width:
        out = b""
        for ch in text:
            b = ch.encode(encoding)
            if len(out) + len(b) > width:
                break
            out += b
        data = out
    pad = b" " * (width - len(data))
    return pad + data if right else data + pad


def write_fixed(submission: Any, records: Iterable[Any], encoding: str) -> bytes:
    rows = _rows(records)
    header = _header(submission, len(rows))
    widths = (1, 14, 18, 80, 7, 20, 10)
    out = [b"".join(fit(v, w, encoding) for v, w in zip(header, widths, strict=True))]
    for r in rows:
        out.append(
            b"D"
            + b"".join(
                fit(v, f.width, encoding, right=f.numeric) for v, f in zip(r, FIELDS, strict=True)
            )
        )
    trailer = _trailer(rows)
    out.append(
        fit(trailer[0], 1, encoding)
        + fit(trailer[1], 10, encoding, right=True)
        + fit(trailer[2], 20, encoding, right=True)
    )
    return b"\r\n".join(out) + b"\r\n"


def write_xlsx(submission: Any, records: Iterable[Any], encoding: str) -> bytes:
    from openpyxl import Workbook

    from credo.core.spreadsheet import append, workbook_bytes

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(f"{submission.month:%Y-%m}")
    append(ws, [f.label for f in FIELDS])
    for r in records:
        append(
            ws,
            [Decimal(f.get(r)) if f.numeric and "." in f.get(r) else f.get(r) for f in FIELDS],
        )
    return workbook_bytes(wb)


def read_text(data: bytes, encoding: str) -> list[dict[str, str]]:
    """The data lines of a ``reference-text`` file as dicts (for tests and integrators)."""
    rows = []
    for line in data.decode(encoding).splitlines():
        parts = line.split("|")
        if parts[0] == "D":
            rows.append(dict(zip([f.code for f in FIELDS], parts[1:], strict=True)))
    return rows


register_writer(
    Writer(
        "reference-text",
        "参考格式（竖线分隔文本）",
        "txt",
        "text/plain",
        ("utf-8", "gb18030"),
        write_text,
    )
)
register_writer(
    Writer(
        "reference-fixed",
        "参考格式（定长文本）",
        "dat",
        "application/octet-stream",
        ("gb18030", "utf-8"),
        write_fixed,
    )
)
register_writer(
    Writer(
        "reference-xlsx",
        "参考格式（Excel）",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ("utf-8",),
        write_xlsx,
    )
)
