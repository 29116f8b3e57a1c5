"""Excel export of a customer queryset (already restricted to the user's data scope).

A write-only (streaming) workbook: rows are written as the queryset is iterated in chunks, so
memory stays flat for large exports. Sensitive columns (身份证号/手机号/银行账号) are masked
unless the user's field permission allows the clear value; the export is audited once
(``customer.export``) with the row count and whether clear sensitive values were included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.fieldperms import MASKED, field_access, masked_value
from credo.core import spreadsheet
from credo.core.audit.services import audit_record
from credo.core.customfields import engine as cf
from credo.core.regions import get_region
from credo.customers.industries import INDUSTRY_NAMES
from credo.customers.models import Customer

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
SENSITIVE = {"id_number": "id_number", "phone": "phone", "bank_account": "bank_account"}


@dataclass(frozen=True)
class Column:
    label: str
    width: float
    value: Callable[[Customer], Any]
    number_format: str = ""


_region_names: dict[str, str] = {}


def _region_name(code: str) -> str:
    """``140105`` → ``太原市小店区`` (cached; placeholder levels skipped)."""
    if not code:
        return ""
    if code not in _region_names:
        parts: list[str] = []
        region = get_region(code)
        seen: set[str] = set()
        while region is not None and region.code not in seen:
            seen.add(region.code)
            if region.name not in ("市辖区", "县"):
                parts.append(region.name)
            region = get_region(region.parent_code) if region.parent_code else None
        _region_names[code] = "".join(reversed(parts))
    return _region_names[code]


def _local(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


def _sensitive_getter(name: str, clear: bool) -> Callable[[Customer], str]:
    def get(c: Customer) -> str:
        return (getattr(c, name) or "") if clear else masked_value(c, name)

    return get


def columns_for(user: Any) -> tuple[list[Column], list[str]]:
    """The export columns for ``user`` and the sensitive fields exported in clear."""
    clear: list[str] = []
    access: dict[str, bool] = {}
    for name in SENSITIVE:
        key = f"customers.customer.{name}"
        access[name] = field_access(user, key) != MASKED
        if access[name]:
            clear.append(key)
    cols = [
        Column(_("客户编号"), 10, lambda c: c.pk),
        Column(_("客户类型"), 9, lambda c: c.get_kind_display()),
        Column(_("名称/姓名"), 32, lambda c: c.name),
        Column(_("统一社会信用代码"), 22, lambda c: c.uscc),
        Column(_("身份证号"), 22, _sensitive_getter("id_number", access["id_number"])),
        Column(_("手机号"), 15, _sensitive_getter("phone", access["phone"])),
        Column(_("银行账号"), 24, _sensitive_getter("bank_account", access["bank_account"])),
        Column(
            _("注册资本（元）"),
            18,
            lambda c: c.registered_capital.yuan if c.registered_capital is not None else None,  # type: ignore[attr-defined]
            MONEY_FORMAT,
        ),
        Column(_("行业"), 20, lambda c: INDUSTRY_NAMES.get(c.industry, "") if c.industry else ""),
        Column(_("法定代表人"), 12, lambda c: c.legal_representative),
        Column(_("成立日期"), 12, lambda c: c.founded_on, DATE_FORMAT),
        Column(_("所在地区"), 24, lambda c: _region_name(c.region_code)),
        Column(_("地址"), 36, lambda c: c.address),
        Column(_("工作单位"), 24, lambda c: c.employer),
        Column(_("状态"), 8, lambda c: c.get_status_display()),
        Column(_("风险等级"), 8, lambda c: c.risk_grade),
        Column(
            _("客户经理"),
            12,
            lambda c: getattr(c.owner, "display_name", "") or c.owner.get_username(),
        ),
        Column(_("创建时间"), 17, lambda c: _local(c.created_at), DATETIME_FORMAT),
    ]
    for f in cf.visible_fields("customer", user):
        fmt = {"money": MONEY_FORMAT, "date": DATE_FORMAT}.get(f.field_type, "")

        def getter(c: Customer, f: Any = f) -> Any:
            return cf.export_value(f, (c.custom or {}).get(f.key))

        cols.append(Column(f.label, max(12.0, len(f.label) * 2.2), getter, fmt))
    return cols, clear


def export_xlsx(queryset: QuerySet[Customer], user: Any, *, chunk_size: int = 2000) -> bytes:
    """The customers of ``queryset`` as an .xlsx file (bytes). Audited as ``customer.export``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    cols, clear = columns_for(user)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("客户"))
    ws.freeze_panes = "A2"
    for idx, col in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(idx)].width = col.width
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF7")
    center = Alignment(horizontal="center", vertical="center")
    header = []
    for col in cols:
        cell = spreadsheet.cell(ws, col.label)
        cell.font, cell.fill, cell.alignment = bold, fill, center
        header.append(cell)
    spreadsheet.append(ws, header)
    formats = [col.number_format for col in cols]
    count = 0
    for customer in queryset.select_related("owner").iterator(chunk_size=chunk_size):
        # Names, addresses, employers and custom fields are free text (also from imports and
        # the API): the shared writer keeps "=HYPERLINK(...)" a text cell, never a formula.
        spreadsheet.append(ws, [col.value(customer) for col in cols], number_formats=formats)
        count += 1
    data = spreadsheet.workbook_bytes(wb)
    with transaction.atomic():
        audit_record(
            action="customer.export",
            actor=user,
            object_type="customers.customer",
            metadata={
                "count": count,
                "unmasked": bool(clear),
                "unmasked_fields": clear,
                "format": "xlsx",
            },
        )
    return data
