"""Browser: the supervisory report (监管报表) — open the report centre, follow 监管报表, choose
the frozen month, check the figures on the page and download the fixed-layout Excel."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from openpyxl import load_workbook

from credo.core.money import Money
from credo.customers.models import Customer
from credo.lending import services
from credo.lending.models import Product, ProductVersion
from credo.reports import supervisory
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import book_on

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_opens_the_supervisory_report_and_downloads_the_excel(page, login, org, settings):
    settings.CREDO_ORG_NAME = "山西测试小额贷款有限公司"
    settings.CREDO_ORG_USCC = "91140100MA0TEST001"
    settings.CREDO_ORG_ADDRESS = "山西省太原市小店区测试路1号"
    role = RoleFactory(code="sup_e2e", name="监管报送", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["lending", "reports"],
            codename__in=[
                "view_loan",
                "disburse_loan",
                "backdate_disbursement",
                "view_supervisory",
            ],
        )
    )
    staff = UserFactory(
        username="sup_staff", display_name="吴报送", org_unit=org["head"], roles=[role]
    )
    finance = UserFactory(username="sup_fin", org_unit=org["head"], roles=[role])
    product = Product.objects.create(code="sp", name="经营贷")
    pv = ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("5000000"),
        min_months=3,
        max_months=60,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_principal",
        penalty_multiplier=Decimal("1.5"),
        allocation_order=["penalty", "fee", "interest", "principal"],
    )
    for name, kind, region, amount in (
        ("太原制造有限公司", "enterprise", "140105", "300000"),
        ("大同农户", "individual", "140213", "100000"),
    ):
        customer = Customer.objects.create(
            owner=staff,
            kind=kind,
            name=name,
            region_code=region,
            industry="C" if kind == "enterprise" else "A",
        )
        loan = services.loan_create(
            customer=customer,
            product_version=pv,
            principal=Money(amount),
            annual_rate=Decimal("12"),
            months=12,
            actor=staff,
        )
        book_on(loan, dt.date(2026, 1, 10))
        services.loan_disburse(loan=loan, actor=finance, value_date=dt.date(2026, 1, 15))
    supervisory.freeze(dt.date(2026, 1, 1), source="command")

    login(staff)
    page.goto(f"{page.base_url}/reports/list/")
    page.click("#supervisory-link")
    page.select_option("#id_month", "2026-01")
    page.click("#supervisory-show")
    page.wait_for_selector("#supervisory-title")
    assert "2026年01月" in page.inner_text("#supervisory-title")
    assert "已冻结" in page.inner_text("#supervisory-status")
    assert "400,000.00" in page.inner_text("#supervisory-indicators")
    assert "大同市" in page.inner_text("#supervisory-city")
    with page.expect_download() as info:
        page.click("#supervisory-xlsx")
    with open(info.value.path(), "rb") as fh:
        ws = load_workbook(io.BytesIO(fh.read())).active
    assert ws["A1"].value == "小额贷款公司贷款统计月报（2026年01月）"
    assert ws["B2"].value == "山西测试小额贷款有限公司"
    assert ws["B8"].value == Decimal("400000.00")
    rows = {ws.cell(row=r, column=1).value: r for r in range(1, ws.max_row + 1)}
    farmer = rows["农户"]
    assert ws.cell(row=farmer, column=3).value == Decimal("100000.00")
    assert page.console_errors == []
