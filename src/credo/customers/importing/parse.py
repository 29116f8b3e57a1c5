"""Step 1: reading the file into row dicts (header labels in Chinese or the English field
names; custom field labels become ``row["custom"]``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from credo.core import tabular
from credo.core.customfields import engine as cf
from credo.customers.errors import CustomerError
from credo.customers.profile import PROFILE_FIELDS

CHUNK = 500
MAX_ROWS = 50_000
ENTITY = "customer"

# Canonical Chinese column label per field (used in the template and in error messages).
COLUMN_LABELS: dict[str, str] = {
    "kind": "客户类型",
    "name": "名称/姓名",
    "uscc": "统一社会信用代码",
    "id_number": "身份证号",
    "phone": "手机号",
    "registered_capital": "注册资本",
    "industry": "行业",
    "legal_representative": "法定代表人",
    "founded_on": "成立日期",
    "region_code": "所在地区",
    "address": "地址",
    "employer": "工作单位",
    "bank_account": "银行账号",
    "owner": "客户经理",
}
# Header aliases → field (compared after removing spaces and brackets, case-insensitive).
_ALIASES: dict[str, str] = {
    "客户类型": "kind",
    "类型": "kind",
    "名称": "name",
    "姓名": "name",
    "名称/姓名": "name",
    "客户名称": "name",
    "企业名称": "name",
    "统一社会信用代码": "uscc",
    "信用代码": "uscc",
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "身份证": "id_number",
    "手机号": "phone",
    "手机号码": "phone",
    "电话": "phone",
    "联系电话": "phone",
    "注册资本": "registered_capital",
    "注册资本元": "registered_capital",
    "行业": "industry",
    "行业门类": "industry",
    "法定代表人": "legal_representative",
    "法人代表": "legal_representative",
    "成立日期": "founded_on",
    "所在地区": "region_code",
    "地区": "region_code",
    "行政区划": "region_code",
    "行政区划代码": "region_code",
    "地址": "address",
    "详细地址": "address",
    "工作单位": "employer",
    "银行账号": "bank_account",
    "银行卡号": "bank_account",
    "客户经理": "owner",
    "客户经理用户名": "owner",
}
for _f in [*PROFILE_FIELDS, "owner"]:
    _ALIASES[_f] = _f
_ALIASES["owner_username"] = "owner"


class ImportFileError(CustomerError):
    """The file cannot be read at all (format, encoding, missing header)."""

    code = "import_file_error"


class ParsedRows(list[dict[str, Any]]):
    """``list[dict]`` of rows; ``unknown_columns`` lists headers that were not recognised."""

    unknown_columns: list[str]

    def __init__(self, rows: Iterable[dict[str, Any]] = (), unknown: list[str] | None = None):
        super().__init__(rows)
        self.unknown_columns = unknown or []


# --- parsing ----------------------------------------------------------------------------------
def _header_map() -> tabular.HeaderMap:
    """Header aliases → field; custom field labels/keys → ``custom:<key>``."""
    custom_by_label: dict[str, str] = {}
    for f in cf.active_fields(ENTITY):
        custom_by_label[f.label] = f"custom:{f.key}"
        custom_by_label[f.key] = f"custom:{f.key}"
        custom_by_label[cf.PREFIX + f.key] = f"custom:{f.key}"
    return tabular.HeaderMap(_ALIASES, extra=custom_by_label)


def _require_name(columns: list[tabular.Column]) -> None:
    if not any(c.target == "name" for c in columns):
        raise ImportFileError(_("未找到表头“名称/姓名”列：请使用导入模板，第一行为列名。"))


class Imprecise(str):
    """A number Excel stored as a float with more than 15 digits: the digits are already lost
    (typically 身份证号/银行账号 typed into a cell not formatted as text)."""


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and abs(value) >= 1e15:
        return Imprecise(f"{value:.0f}")
    if isinstance(value, float):
        # Excel stores every number as a float: 13835112345.0 → "13835112345", 1.5 → Decimal.
        return str(int(value)) if value.is_integer() else Decimal(repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _row(number: int, values: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"_row": number, "custom": {}}
    for target, value in values.items():
        if target.startswith("custom:"):
            if value not in ("", None):
                row["custom"][target[7:]] = value
        else:
            row[target] = value
    return row


def parse_file(uploaded_or_path: Any, filename: str = "") -> ParsedRows:
    """Read an .xlsx or .csv file (path, bytes, file object or Django upload) into rows.

    Each row: ``{"_row": Excel row number, <field>: value, ..., "owner": username,
    "custom": {key: value}}``. Raises :class:`ImportFileError` for an unreadable file.
    """
    filename = filename or str(getattr(uploaded_or_path, "name", "") or uploaded_or_path)
    try:
        table = tabular.read_file(
            uploaded_or_path,
            filename,
            _header_map(),
            cell=_cell,
            check_header=_require_name,
            max_rows=MAX_ROWS,
            max_rows_label=f"{MAX_ROWS:,}",
        )
    except tabular.TableError as exc:
        raise ImportFileError(exc.message()) from None
    return ParsedRows([_row(n, values) for n, values in table.records], table.unknown)
