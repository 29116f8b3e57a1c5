"""The empty import template (.xlsx)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from credo.core import spreadsheet
from credo.core.customfields import engine as cf
from credo.customers.importing.parse import COLUMN_LABELS, ENTITY


# --- template ---------------------------------------------------------------------------------
def _example_uscc() -> str:
    from credo.core.validators import uscc_check_char

    first17 = "91140105MA0L12345"
    return first17 + uscc_check_char(first17)


def template_xlsx(user: Any = None) -> bytes:
    """An empty import template: the standard columns + editable custom fields + one example."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "客户导入"
    labels = list(COLUMN_LABELS.values())
    labels += [
        f.label
        for f in cf.active_fields(ENTITY)
        if f.field_type != "file" and (user is None or cf.can_edit(f, user))
    ]
    spreadsheet.append(ws, labels)  # custom field labels are admin text
    for cell in ws[1]:
        cell.font = Font(bold=True)
    spreadsheet.append(
        ws,
        [
            "企业",
            "太原晋阳商贸有限公司",
            _example_uscc(),
            "",
            "0351-7654321",
            5000000,
            "F",
            "王建国",
            dt.date(2015, 3, 20),
            "山西省太原市小店区",
            "长治路 1 号",
            "",
            "",
            "",
        ],
    )
    ws.freeze_panes = "A2"
    for idx in range(1, len(labels) + 1):
        ws.column_dimensions[ws.cell(row=1, column=idx).column_letter].width = 18
    return spreadsheet.workbook_bytes(wb)
