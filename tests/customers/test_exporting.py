from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from credo.accounts.services import field_permission_set
from credo.core.audit.models import AuditEntry
from credo.core.customfields.models import CustomField
from credo.customers import services
from credo.customers.exporting import export_xlsx
from credo.customers.selectors import customer_list

pytestmark = pytest.mark.django_db


def _sheet(data: bytes) -> list[list[object]]:
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.bold
    return [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.fixture
def customers(owner, enterprise_data, individual_data):
    CustomField.objects.create(
        entity="customer", key="employees", label="员工人数", field_type="number"
    )
    ent = services.customer_create(actor=owner, data=enterprise_data, custom={"employees": "35"})
    ind = services.customer_create(actor=owner, data=individual_data)
    return ent, ind


def test_export_masks_by_default_and_numbers_are_numeric(owner, customers, individual_data):
    ent, ind = customers
    rows = _sheet(export_xlsx(customer_list(owner, {}), owner))
    header, *body = rows
    assert header[:3] == ["客户编号", "客户类型", "名称/姓名"] and "员工人数" in header
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    person = by_id[ind.pk]
    assert person["身份证号"] != individual_data["id_number"]
    assert person["身份证号"].startswith("140105") and "*" in person["身份证号"]
    assert person["手机号"] == "138****2345"
    assert person["银行账号"].endswith("8901") and "*" in person["银行账号"]
    company = by_id[ent.pk]
    assert company["注册资本（元）"] == Decimal("5000000") or company["注册资本（元）"] == 5000000
    assert isinstance(company["注册资本（元）"], int | float | Decimal)
    assert isinstance(company["成立日期"], dt.datetime | dt.date)
    assert company["员工人数"] == 35
    assert company["所在地区"] == "山西省太原市小店区"
    wb = load_workbook(io.BytesIO(export_xlsx(customer_list(owner, {}), owner)))
    cap_col = header.index("注册资本（元）") + 1
    ent_row = next(i for i, r in enumerate(body, start=2) if r[0] == ent.pk)
    assert wb.worksheets[0].cell(row=ent_row, column=cap_col).number_format == "#,##0.00"
    entry = AuditEntry.objects.filter(action="customer.export").first()
    assert entry.metadata["count"] == 2 and entry.metadata["unmasked"] is False


def test_export_clear_values_when_field_permission_grants_view(
    owner, customers, individual_data, manager_role
):
    _ent, ind = customers
    field_permission_set(
        role=manager_role,
        field_key="customers.customer.id_number",
        can_view=True,
        can_edit=False,
        actor=None,
    )
    rows = _sheet(export_xlsx(customer_list(owner, {}), owner))
    header, *body = rows
    person = {r[0]: dict(zip(header, r, strict=True)) for r in body}[ind.pk]
    assert person["身份证号"] == individual_data["id_number"]
    assert person["手机号"] == "138****2345"  # still masked: no grant for the phone
    entry = AuditEntry.objects.get(action="customer.export")
    assert entry.metadata["unmasked"] is True
    assert entry.metadata["unmasked_fields"] == ["customers.customer.id_number"]
