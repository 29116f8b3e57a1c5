"""Browser: finance uploads a bank statement, sees matched / unmatched lines, posts the match."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import include, path
from django.utils import timezone

from credo.core.money import Money
from credo.lending import services
from credo.lending.models import Posting, Product, ProductVersion, StatementLine
from credo.urls import urlpatterns as base_urlpatterns
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import book_on

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

# Mounted like the lead mounts it in credo/urls.py (harmless if it is mounted there already).
urlpatterns = [
    path("lending/statements/", include("credo.lending.statements.urls")),
    *base_urlpatterns,
]


def _borrower(owner):
    from credo.core.validators import uscc_check_char
    from credo.customers import services as customer_services

    body = "91140100MA0000003"
    return customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "太原流水测试有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140105",
        },
    )


def test_statement_upload_match_and_post(page, login, org, owner):
    pv = ProductVersion.objects.create(
        product=Product.objects.create(code="e2e-st", name="经营贷"),
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
    role = RoleFactory(code="fin_st", name="财务流水", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending",
            codename__in=[
                "view_loan",
                "disburse_loan",
                "post_repayment",
                "reverse_posting",
                "backdate_disbursement",  # disbursed 40 days ago
            ],
        )
    )
    fin = UserFactory(username="fin_st", display_name="周财务", org_unit=org["head"], roles=[role])
    loan = services.loan_create(
        customer=_borrower(owner),
        product_version=pv,
        principal=Money("120000"),
        annual_rate=Decimal("12"),
        months=12,
        actor=owner,
    )
    today = timezone.localdate()
    book_on(loan, today - dt.timedelta(days=45))  # a loan may not start before it existed
    loan = services.loan_disburse(loan=loan, actor=fin, value_date=today - dt.timedelta(days=40))
    csv_text = (
        "交易日期,贷方发生额,对方户名,对方账号,摘要,流水号\n"
        f"{today:%Y-%m-%d},5000.00,某某代付,6222000011112222,还款 {loan.number},E2E001\n"
        f"{today:%Y-%m-%d},800.00,不明来款,6222000099990000,货款,E2E002\n"
    )

    page.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    login(fin)
    page.goto(f"{page.base_url}/lending/statements/")
    page.set_input_files(
        "#statement-file",
        files=[{"name": "流水.csv", "mimeType": "text/csv", "buffer": csv_text.encode("utf-8")}],
    )
    page.click("#statement-upload button[type=submit]")
    page.wait_for_selector("#lines-matched")
    assert page.inner_text("#count-matched") == "1"
    assert page.inner_text("#count-unmatched") == "1"
    assert "E2E001" in page.inner_text("#lines-matched")
    assert "贷款编号" in page.inner_text("#lines-matched")
    assert "E2E002" in page.inner_text("#lines-unmatched")

    page.click("#post-matched")
    page.wait_for_selector("#count-posted:has-text('1')")
    assert page.inner_text("#count-unmatched") == "1"
    line = StatementLine.objects.get(bank_txn_id="E2E001")
    assert line.status == "posted" and line.posting is not None
    assert Posting.objects.filter(loan=loan, channel="statement").count() == 1

    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    page.click("a[href='#tab-postings']")
    page.wait_for_selector("#posting-table", state="visible")
    postings = page.inner_text("#posting-table")
    assert "5,000.00" in postings and "银行流水" in postings and "E2E001" in postings
    assert page.console_errors == []
