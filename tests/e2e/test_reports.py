"""Browser: dashboard → build a custom report (overdue balance by industry, bar chart) → save →
schedule → export Excel and check the numbers in the file."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from openpyxl import load_workbook

from credo.core.money import Money
from credo.lending import services
from credo.lending.models import Loan, Product, ProductVersion
from credo.reports.models import ReportSchedule, SavedReport
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import book_on

pytestmark = pytest.mark.django_db(transaction=True)


def _customer(owner, name, uscc_body, industry):
    from credo.core.validators import uscc_check_char
    from credo.customers import services as customer_services

    return customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": name,
            "uscc": uscc_body + uscc_check_char(uscc_body),
            "region_code": "140105",
            "industry": industry,
        },
    )


def test_manager_builds_saves_schedules_and_exports_a_report(page, login, org):
    role = RoleFactory(code="rpt", name="经理", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["lending", "customers", "reports"],
            codename__in=[
                "view_loan",
                "view_customer",
                "add_customer",
                "add_loan",
                "disburse_loan",
                "backdate_disbursement",  # the book is disbursed on 2026-01-15
                "build_report",
                "schedule_report",
            ],
        )
    )
    manager = UserFactory(
        username="rpt_mgr", display_name="赵经理", org_unit=org["head"], roles=[role]
    )
    finance = UserFactory(username="rpt_fin", org_unit=org["head"], roles=[role])
    product = Product.objects.create(code="rp", name="经营贷")
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
        method="equal_installment",
        penalty_multiplier=Decimal("1.5"),
        allocation_order=["penalty", "fee", "interest", "principal"],
    )
    for name, body, industry, amount, dpd in (
        ("制造甲公司", "91140100MA0000011", "C", "300000", 40),
        ("批发乙公司", "91140100MA0000012", "F", "200000", 0),
        ("制造丙公司", "91140100MA0000013", "C", "100000", 0),
    ):
        loan = services.loan_create(
            customer=_customer(manager, name, body, industry),
            product_version=pv,
            principal=Money(amount),
            annual_rate=Decimal("12"),
            months=12,
            actor=manager,
        )
        book_on(loan, dt.date(2026, 1, 10))  # a loan may not start before it existed
        loan = services.loan_disburse(loan=loan, actor=finance, value_date=dt.date(2026, 1, 15))
        Loan.objects.filter(pk=loan.pk).update(dpd=dpd, status="overdue" if dpd else "active")

    login(manager)
    page.goto(f"{page.base_url}/reports/?period=year")
    assert "贷款余额" in page.inner_text("#kpi-cards")
    assert "600,000.00" in page.inner_text("[data-kpi=outstanding]")
    page.click("#new-report")
    page.select_option("#id_dataset", "loans")
    page.wait_for_selector("#id_d")
    page.select_option("#id_d", ["industry"])
    page.select_option("#id_m", ["overdue_balance", "outstanding"])
    page.select_option("#id_chart", "bar")
    page.click("#preview")
    page.wait_for_selector("#result-table")
    page.wait_for_selector(".credo-chart[data-rendered='1']")
    assert "制造业" in page.inner_text("#result-table")
    page.fill("#id_name", "行业逾期余额")
    page.check("#id_on_dashboard")
    page.click("#save-report")
    page.wait_for_selector("#export-xlsx")
    report = SavedReport.objects.get(name="行业逾期余额")
    assert report.chart == "bar"

    page.fill("#id_time", "08:30")
    page.click("#save-schedule")
    page.wait_for_selector("#schedules table")
    assert ReportSchedule.objects.get(report=report).time == dt.time(8, 30)

    with page.expect_download() as info:
        page.click("#export-xlsx")
    path = info.value.path()
    with open(path, "rb") as fh:  # the download has no .xlsx suffix: read the bytes
        ws = load_workbook(io.BytesIO(fh.read())).active
    header = [c.value for c in ws[1]]
    assert header[0] == "行业" and set(header[1:]) == {"逾期余额", "贷款余额"}
    rows = {
        r[0]: dict(zip(header[1:], r[1:], strict=True))
        for r in ws.iter_rows(min_row=2, values_only=True)
    }
    manufacturing = next(v for k, v in rows.items() if "制造" in k)
    assert manufacturing == {"逾期余额": 300000, "贷款余额": 400000}  # numbers, not text
    wholesale = next(v for k, v in rows.items() if "批发" in k)
    assert wholesale == {"逾期余额": 0, "贷款余额": 200000}
    page.goto(f"{page.base_url}/reports/")
    assert "行业逾期余额" in page.inner_text("body")
    assert page.console_errors == []
