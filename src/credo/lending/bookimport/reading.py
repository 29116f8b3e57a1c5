"""Reading a book-migration workbook (存量贷款迁移): sheets ``loans`` and ``repayments``.

Headers in Chinese or English (``贷款编号`` or ``loan_number`` …, compared with
:func:`credo.core.tabular.norm_header`). Every cell is checked here, row by row, with a Chinese
message naming the sheet, the row as Excel shows it and the column; the cross-row and database
checks are in :mod:`.services`. Pure apart from Django's gettext: no database.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from credo.core import tabular
from credo.core.validators import (
    normalize_id_number,
    normalize_uscc,
    validate_id_number,
    validate_uscc,
)
from credo.lending.errors import LendingError
from credo.lending.models import Method

LOANS_SHEETS = ("loans", "贷款", "贷款台账")
REPAYMENTS_SHEETS = ("repayments", "还款", "还款记录")
MAX_LOANS = 200_000
MAX_REPAYMENTS = 3_000_000

# field → (Chinese header used in the template and in messages, other accepted headers)
LOAN_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "loan_number": ("贷款编号", ("借据号", "合同编号")),
    "customer_id_number": ("证件号码", ("统一社会信用代码", "身份证号", "证件号")),
    "customer_name": ("客户名称", ("客户姓名", "借款人")),
    "customer_kind": ("客户类型", ()),
    "product_code": ("产品代码", ("产品编码",)),
    "disbursed_on": ("放款日", ("放款日期", "起息日")),
    "principal": ("放款金额", ("贷款金额", "本金")),
    "annual_rate": ("年利率(%)", ("年利率",)),
    "months": ("期数", ("期限", "期限(月)")),
    "method": ("还款方式", ()),
    "repayment_day": ("还款日", ("每月还款日",)),
    "outstanding_principal": ("剩余本金", ("贷款余额", "本金余额")),
    "phone": ("手机号", ("联系电话",)),
}
REPAYMENT_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "loan_number": ("贷款编号", ("借据号",)),
    "received_on": ("到账日期", ("还款日期", "交易日期")),
    "amount": ("金额", ("还款金额",)),
    "reference": ("参考号", ("流水号", "备注")),
}
LOAN_REQUIRED = (
    "loan_number",
    "customer_id_number",
    "customer_name",
    "customer_kind",
    "disbursed_on",
    "principal",
    "annual_rate",
    "months",
    "method",
)
REPAYMENT_REQUIRED = ("loan_number", "received_on", "amount")

KINDS = {
    "企业": "enterprise",
    "公司": "enterprise",
    "enterprise": "enterprise",
    "个人": "individual",
    "自然人": "individual",
    "individual": "individual",
}
METHOD_ALIASES = {
    "按月付息到期还本": "interest_only",
    "先息后本": "interest_only",
    "利随本清": "bullet",
    "到期一次还本付息": "bullet",
    "等额本息": "equal_installment",
    "等额本金": "equal_principal",
}
EXAMPLE_USCC = "91140100MA0000001"
LOAN_NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,19}$")


class BookFileError(LendingError):
    code = "book_file"

    def __init__(self, message: str, *, empty: bool = False) -> None:
        super().__init__(message)
        self.empty = empty


@dataclass(frozen=True)
class BookError:
    """One problem of one cell: sheet, row as Excel shows it (header = 1), column, message."""

    sheet: str
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = _("%(sheet)s 表第 %(row)s 行") % {"sheet": self.sheet, "row": self.row}
        if self.column:
            where += f"【{self.column}】"
        return f"{where}：{self.message}"


@dataclass
class LoanRow:
    row: int
    loan_number: str
    id_number: str
    name: str
    kind: str
    product_code: str
    disbursed_on: dt.date
    principal: int  # fen
    annual_rate: Decimal
    months: int
    method: str
    repayment_day: int | None
    control: int | None  # 剩余本金 (fen), the lender's own figure
    phone: str = ""

    def canonical(self) -> dict[str, Any]:
        """The row as compared on a re-import (what decides "unchanged" vs "conflict")."""
        return {
            "loan_number": self.loan_number,
            "customer_id_number": self.id_number,
            "customer_kind": self.kind,
            "product_code": self.product_code,
            "disbursed_on": self.disbursed_on.isoformat(),
            "principal": self.principal,
            "annual_rate": str(self.annual_rate.normalize()),
            "months": self.months,
            "method": self.method,
            "repayment_day": self.repayment_day,
        }


@dataclass
class RepaymentRow:
    row: int
    loan_number: str
    received_on: dt.date
    amount: int  # fen
    reference: str = ""

    def canonical(self) -> list[Any]:
        return [self.received_on.isoformat(), self.amount, self.reference]


@dataclass
class BookFile:
    loans: list[LoanRow] = field(default_factory=list)
    repayments: list[RepaymentRow] = field(default_factory=list)
    errors: list[BookError] = field(default_factory=list)
    loans_sheet: str = "loans"
    repayments_sheet: str = "repayments"


def _header_map(columns: dict[str, tuple[str, tuple[str, ...]]]) -> tabular.HeaderMap:
    aliases: dict[str, str] = {}
    for key, (zh, others) in columns.items():
        for label in (key, zh, *others):
            aliases[label] = key
    return tabular.HeaderMap(aliases)


# --- cells -------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
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


def parse_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):  # openpyxl numbers: through repr, never float arithmetic
        value = repr(value)
    text = _text(value).replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    text = text.removesuffix("%").removesuffix("元")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_money(value: Any) -> int | None:
    """Yuan with at most two decimals → fen (None if not such a number)."""
    number = parse_decimal(value)
    if number is None or number != number.quantize(Decimal("0.01")):
        return None
    return int(number * 100)


def parse_int(value: Any) -> int | None:
    number = parse_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def parse_method(value: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    by_label = {str(label): code for code, label in Method.choices}
    if text in by_label:
        return by_label[text]
    if text in METHOD_ALIASES:
        return METHOD_ALIASES[text]
    if text.lower() in Method.values:
        return text.lower()
    return None


def parse_kind(value: Any) -> str | None:
    text = _text(value)
    return KINDS.get(text, KINDS.get(text.lower())) if text else None


# --- sheets ------------------------------------------------------------------------------------
def _sheet(wb: Any, names: tuple[str, ...]) -> Any | None:
    wanted = {n.lower() for n in names}
    for ws in wb.worksheets:
        if ws.title.strip().lower() in wanted:
            return ws
    return None


def _read_sheet(
    ws: Any,
    columns: dict[str, tuple[str, tuple[str, ...]]],
    required: tuple[str, ...],
    max_rows: int,
    sheet: str,
) -> tuple[list[tuple[int, dict[str, Any]]], list[BookError]]:
    def check_header(found: list[tabular.Column]) -> None:
        have = {c.target for c in found}
        missing = [columns[k][0] for k in required if k not in have]
        if missing:
            raise BookFileError(
                _("%(sheet)s 表缺少列：%(cols)s。") % {"sheet": sheet, "cols": "、".join(missing)}
            )

    try:
        table = tabular.read_table(
            ws.iter_rows(values_only=True),
            _header_map(columns),
            check_header=check_header,
            max_rows=max_rows,
        )
    except tabular.TableError as exc:
        if exc.code == "empty":
            raise BookFileError(_("%(sheet)s 表是空的。") % {"sheet": sheet}, empty=True) from None
        raise BookFileError(exc.message()) from None
    return table.records, []


def read_book(data: bytes, filename: str = "book.xlsx") -> BookFile:
    """Parse the workbook; a file that cannot be read at all raises :class:`BookFileError`,
    a bad cell is a :class:`BookError` in ``errors`` (every row is checked)."""
    from openpyxl import load_workbook

    if not filename.lower().endswith((".xlsx", ".xlsm")):
        raise BookFileError(_("只支持 .xlsx 文件（含 loans 和 repayments 两个工作表）。"))
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 — BadZipFile, KeyError … from a user file
        raise BookFileError(_("无法读取 Excel 文件：%(err)s") % {"err": exc}) from None
    try:
        loans_ws = _sheet(wb, LOANS_SHEETS)
        if loans_ws is None:
            raise BookFileError(_("找不到工作表 loans（贷款）。"))
        book = BookFile(loans_sheet=loans_ws.title)
        records, _e = _read_sheet(loans_ws, LOAN_COLUMNS, LOAN_REQUIRED, MAX_LOANS, loans_ws.title)
        for number, rec in records:
            _loan_row(book, number, rec)
        rep_ws = _sheet(wb, REPAYMENTS_SHEETS)
        if rep_ws is not None:
            book.repayments_sheet = rep_ws.title
            try:
                records, _e = _read_sheet(
                    rep_ws, REPAYMENT_COLUMNS, REPAYMENT_REQUIRED, MAX_REPAYMENTS, rep_ws.title
                )
            except BookFileError as exc:
                if not exc.empty:
                    raise
                records = []
            for number, rec in records:
                _repayment_row(book, number, rec)
    finally:
        wb.close()
    return book


_Err = Callable[[str, str], None]


def _customer_cells(rec: dict[str, Any], err: _Err) -> tuple[str | None, str, str]:
    """(kind, normalized identifier, name) of a loans row."""
    kind = parse_kind(rec.get("customer_kind"))
    if kind is None:
        err("customer_kind", _("客户类型应为“企业”或“个人”。"))
    raw_id = _text(rec.get("customer_id_number"))
    id_number = ""
    if not raw_id:
        err("customer_id_number", _("必填。"))
    elif kind is not None:
        enterprise = kind == "enterprise"
        id_number = normalize_uscc(raw_id) if enterprise else normalize_id_number(raw_id)
        try:
            (validate_uscc if enterprise else validate_id_number)(id_number)
        except ValidationError as exc:
            err("customer_id_number", " ".join(str(m) for m in exc.messages))
    name = _text(rec.get("customer_name"))
    if not name:
        err("customer_name", _("必填。"))
    elif len(name) > 120:
        err("customer_name", _("客户名称最长 120 个字。"))
    return kind, id_number, name


def _term_cells(rec: dict[str, Any], err: _Err) -> dict[str, Any]:
    """The loan terms of a loans row (None where a cell is wrong)."""
    principal = parse_money(rec.get("principal"))
    if principal is None or principal <= 0:
        err("principal", _("金额必须是大于 0、最多两位小数的数字（元）。"))
    rate = parse_decimal(rec.get("annual_rate"))
    if rate is None or rate < 0 or rate >= 100:
        err("annual_rate", _("年利率应为 0–100 之间的数字（%），如 6.5。"))
    elif rate != rate.quantize(Decimal("0.0001")):
        err("annual_rate", _("年利率最多 4 位小数。"))
    months = parse_int(rec.get("months"))
    if months is None or not 1 <= months <= 600:
        err("months", _("期数应为 1–600 的整数。"))
    method = parse_method(rec.get("method"))
    if method is None:
        names = "、".join(str(label) for _c, label in Method.choices)
        err("method", _("还款方式无法识别，应为：%(names)s（或其代码）。") % {"names": names})
    return {"principal": principal, "annual_rate": rate, "months": months, "method": method}


def _optional_cells(rec: dict[str, Any], err: _Err) -> tuple[int | None, int | None]:
    """(还款日, 剩余本金 in fen) of a loans row, None when left blank."""
    repayment_day: int | None = None
    if _text(rec.get("repayment_day")):
        repayment_day = parse_int(rec.get("repayment_day"))
        if repayment_day is None or not 1 <= repayment_day <= 28:
            err("repayment_day", _("还款日应为 1–28 的整数，或留空（按放款日对应日）。"))
    control: int | None = None
    if _text(rec.get("outstanding_principal")):
        control = parse_money(rec.get("outstanding_principal"))
        if control is None or control < 0:
            err("outstanding_principal", _("剩余本金应为不小于 0、最多两位小数的数字（元）。"))
    return repayment_day, control


def _loan_row(book: BookFile, number: int, rec: dict[str, Any]) -> None:
    errors: list[BookError] = []

    def err(key: str, message: str) -> None:
        errors.append(BookError(book.loans_sheet, number, LOAN_COLUMNS[key][0], message))

    loan_number = _text(rec.get("loan_number"))
    if not loan_number:
        err("loan_number", _("必填。"))
    elif not LOAN_NUMBER_RE.match(loan_number):
        err("loan_number", _("贷款编号只能包含字母、数字、- 和 _，最长 20 位。"))
    kind, id_number, name = _customer_cells(rec, err)
    disbursed_on = parse_date(rec.get("disbursed_on"))
    if disbursed_on is None:
        err("disbursed_on", _("日期格式应为 YYYY-MM-DD。"))
    terms = _term_cells(rec, err)
    repayment_day, control = _optional_cells(rec, err)
    if errors:
        book.errors.extend(errors)
        return
    assert disbursed_on is not None and kind is not None
    book.loans.append(
        LoanRow(
            row=number,
            loan_number=loan_number,
            id_number=id_number,
            name=name,
            kind=kind,
            product_code=_text(rec.get("product_code")),
            disbursed_on=disbursed_on,
            repayment_day=repayment_day,
            control=control,
            phone=_text(rec.get("phone")),
            **terms,
        )
    )


def _repayment_row(book: BookFile, number: int, rec: dict[str, Any]) -> None:
    sheet = book.repayments_sheet
    errors: list[BookError] = []

    def err(key: str, message: str) -> None:
        errors.append(BookError(sheet, number, REPAYMENT_COLUMNS[key][0], message))

    loan_number = _text(rec.get("loan_number"))
    if not loan_number:
        err("loan_number", _("必填。"))
    received_on = parse_date(rec.get("received_on"))
    if received_on is None:
        err("received_on", _("日期格式应为 YYYY-MM-DD。"))
    amount = parse_money(rec.get("amount"))
    if amount is None or amount <= 0:
        err("amount", _("金额必须是大于 0、最多两位小数的数字（元）。"))
    reference = _text(rec.get("reference"))
    if len(reference) > 60:
        err("reference", _("参考号最长 60 个字符。"))
    if errors:
        book.errors.extend(errors)
        return
    assert received_on and amount
    book.repayments.append(RepaymentRow(number, loan_number, received_on, amount, reference))


# --- the template ------------------------------------------------------------------------------
def template_xlsx() -> bytes:
    """The empty workbook with both sheets, Chinese headers and one example row each."""
    from openpyxl import Workbook

    from credo.core import spreadsheet
    from credo.core.validators import uscc_check_char

    wb = Workbook()
    ws = wb.active
    ws.title = "loans"
    spreadsheet.append(ws, [zh for zh, _o in LOAN_COLUMNS.values()])
    spreadsheet.append(
        ws,
        [
            "MIG-0001",
            EXAMPLE_USCC + uscc_check_char(EXAMPLE_USCC),
            "示例企业有限公司",
            "企业",
            "",
            "2025-01-15",
            "120000.00",
            "12",
            12,
            "等额本息",
            "",
            "60000.00",
            "",
        ],
    )
    rep = wb.create_sheet("repayments")
    spreadsheet.append(rep, [zh for zh, _o in REPAYMENT_COLUMNS.values()])
    spreadsheet.append(rep, ["MIG-0001", "2025-02-15", "10661.85", "原系统流水号"])
    notes = wb.create_sheet("说明")
    for line in (
        _("loans：每笔贷款一行；客户类型填“企业”或“个人”，证件号码填统一社会信用代码或身份证号。"),
        _("产品代码可留空：留空则按文件中的利率、期数和还款方式放在内置的“存量迁移”产品下。"),
        _(
            "还款方式：等额本息、等额本金、先息后本（按月付息到期还本）、到期一次还本付息，或其代码。"
        ),
        _("剩余本金：原系统截至追溯日的本金余额，仅用于对账，可留空。"),
        _("repayments：每笔到账一行，行序不限，系统按到账日期顺序入账。"),
        _("整批导入：任何一行有误则全部不导入；同一文件重复导入不会重复入账。"),
    ):
        spreadsheet.append(notes, [line])
    return spreadsheet.workbook_bytes(wb)
