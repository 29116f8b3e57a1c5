"""Browser: product admin publishes a product; finance disburses a loan and posts a repayment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from credo.core.holidays import load_calendar
from credo.core.money import Money
from credo.lending import services
from credo.lending.models import Installment, Loan, Product, ProductVersion
from tests.e2e.axe import assert_accessible
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import book_on

pytestmark = pytest.mark.django_db(transaction=True)


def _role(code: str, *codenames: str):
    role = RoleFactory(code=code, name=code, data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(content_type__app_label="lending", codename__in=codenames)
    )
    return role


def test_admin_creates_and_publishes_product(page, login, org):
    admin = UserFactory(
        username="prod_admin", org_unit=org["head"], roles=[_role("pa", "manage_products")]
    )
    login(admin)
    page.goto(f"{page.base_url}/lending/products/")
    page.click("#product-new")
    page.fill("#id_p-code", "jyd")
    page.fill("#id_p-name", "经营贷")
    for name, value in {
        "min_amount": "10000",
        "max_amount": "3000000",
        "min_months": "3",
        "max_months": "36",
        "min_rate": "4",
        "max_rate": "18",
        "grace_days": "3",
    }.items():
        page.fill(f"#id_v-{name}", value)
    page.select_option("#id_v-method", "equal_installment")
    page.fill("#id_v-required_documents", "营业执照\n法人身份证")
    page.click("#save-product")
    page.wait_for_selector("#version-status")
    assert page.inner_text("#version-status") == "草稿"
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#publish-version")
    page.wait_for_selector("#version-status:has-text('已发布')")
    version = ProductVersion.objects.get(product__code="jyd")
    assert version.status == "published"
    assert version.required_documents == ["营业执照", "法人身份证"]
    assert page.console_errors == []


def _borrower(owner):
    from credo.core.validators import uscc_check_char
    from credo.customers import services as customer_services

    body = "91140100MA0000002"
    return customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "太原浏览器测试有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140105",
        },
    )


def _product_version():
    product = Product.objects.create(code="e2e", name="经营贷")
    return ProductVersion.objects.create(
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


def test_finance_disburses_and_posts_repayment(page, login, org, owner):
    pv = _product_version()
    loan = services.loan_create(
        customer=_borrower(owner),
        product_version=pv,
        principal=Money("120000"),
        annual_rate=Decimal("12"),
        months=12,
        actor=owner,
    )
    fin = UserFactory(
        username="fin_e2e",
        display_name="周财务",
        org_unit=org["head"],
        roles=[
            _role(
                "fin_e2e",
                "view_loan",
                "disburse_loan",
                "post_repayment",
                "reverse_posting",
                "run_eod",
                "backdate_disbursement",  # disburses 70 days back below
            )
        ],
    )
    book_on(loan, timezone.localdate() - dt.timedelta(days=75))  # created before its value date
    login(fin)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{page.base_url}/lending/loans/")
    page.click(f"text={loan.number}")
    # Disbursed 70 days ago: installment 1 fell due ~40 days ago, installment 2 ~10 days ago.
    value_date = timezone.localdate() - dt.timedelta(days=70)
    page.fill("#disburse-form input[name=value_date]", value_date.isoformat())
    page.click("#disburse-form button[type=submit]")
    page.wait_for_selector("#loan-status:has-text('正常')")
    loan.refresh_from_db()
    assert loan.status == Loan.Status.ACTIVE

    first = loan.installments.get(period=1)
    due = first.principal_due.fen + first.interest_due.fen + first.fee_due.fen
    assert_accessible(page, "loan")
    page.click("#post-repayment")
    page.fill("#id_amount", f"{due // 100}.{due % 100:02d}")
    # 到账日期 defaults to today; changing the amount refreshes the htmx preview
    assert page.input_value("#id_received_on") == timezone.localdate().isoformat()
    page.locator("#id_amount").dispatch_event("change")
    page.wait_for_selector("#allocation-table")
    assert "第 1 期" in page.inner_text("#allocation-table")
    assert page.inner_text("#allocation-credit") == "0.00"
    assert_accessible(page, "repayment")
    page.click("#repayment-form button[type=submit]")
    page.wait_for_selector("#installment-table")
    first.refresh_from_db()
    assert first.status == Installment.Status.PAID
    assert page.locator("#installment-table tr[data-status=paid]").count() == 1
    page.click("a[href='#tab-entries']")
    page.wait_for_selector("#entry-table", state="visible")
    entries = page.inner_text("#entry-table")
    assert "loan_principal" in entries and "还款" in entries

    # Close of business for yesterday: installment 2 is unpaid → overdue, DPD, 关注. The
    # repayment is valued today, so as of yesterday installment 1 was still unpaid: DPD counts
    # from its due date (value dates, issue 18).
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    page.goto(f"{page.base_url}/lending/eod/")
    page.fill("input[name=business_date]", yesterday.isoformat())
    page.get_by_role("button", name="运行日终").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=eod-status]").inner_text().strip() == "已完成"
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    # 节假日顺延 (the default holiday rule): a due date on a rest day counts from the next
    # working day
    due = first.due_date
    if loan.holiday_rule == "defer_penalty":
        due = load_calendar().next_working_day(due)
    expected_dpd = (yesterday - due).days
    assert page.inner_text("#loan-dpd").strip() == str(expected_dpd)
    assert page.inner_text("#loan-classification").strip() == "关注"
    assert page.inner_text("#loan-status").strip() == "逾期"
    # the first close catches the loan up from its start: installment 1 was paid ~40 days
    # late, so its 罚息/复利 were charged first (penalty → fee → interest → principal) and a
    # little principal is still owed on it — both installments are overdue
    assert page.locator("#installment-table tr[data-status=overdue]").count() == 2
    first.refresh_from_db()
    assert first.penalty_due.fen > 0 and first.principal_paid.fen < first.principal_due.fen
    assert page.console_errors == []


def test_finance_writes_off_a_loss_loan(page, login, org, owner):
    loan = services.loan_create(
        customer=_borrower(owner),
        product_version=_product_version(),
        principal=Money("120000"),
        annual_rate=Decimal("12"),
        months=12,
        actor=owner,
    )
    fin = UserFactory(
        username="fin_wo",
        display_name="吴财务",
        org_unit=org["head"],
        roles=[
            _role("fin_wo", "view_loan", "disburse_loan", "write_off_loan", "backdate_disbursement")
        ],
    )
    book_on(loan, timezone.localdate() - dt.timedelta(days=310))  # created before its value date
    loan = services.loan_disburse(
        loan=loan, actor=fin, value_date=timezone.localdate() - dt.timedelta(days=300)
    )
    Loan.objects.filter(pk=loan.pk).update(status="overdue", classification="loss", dpd=270)
    login(fin)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    page.fill("#write-off-form input[name=reason]", "借款人破产清算终结")
    page.click("#write-off-submit")
    page.wait_for_selector("#loan-status:has-text('已核销')")
    assert "借款人破产清算终结" in page.inner_text("#write-off-info")
    assert page.inner_text("#outstanding").strip() == "0.00"
    assert page.locator("#write-off-form").count() == 0
    loan.refresh_from_db()
    assert loan.status == Loan.Status.WRITTEN_OFF
    assert page.console_errors == []
