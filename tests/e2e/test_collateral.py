"""Browser, issue 18 item 7: an account manager records a house with its valuation on a loan
application and the approver sees the 抵押率 (LTV) on the approval task; a paid-off loan's
collateral gets a release request that a second person approves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from credo.collateral import jobs
from credo.collateral import services as collateral_services
from credo.core.money import Money
from credo.customers import services as customer_services
from credo.lending import services as lending_services
from credo.lending.models import Loan, Product, ProductVersion
from credo.origination import services
from tests.factories import UserFactory
from tests.factories import png_bytes as _png
from tests.factories import role_with_perms as _role
from tests.factories import xlsx_bytes as _xlsx

pytestmark = pytest.mark.django_db(transaction=True)

VIEWER = (
    "origination.view_application",
    "approvals.view_approvalinstance",
    "customers.view_customer",
    "lending.view_loan",
    "collateral.view_collateral",
)


@pytest.fixture
def world(org, settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "docs")
    am = _role(
        "account_manager_e2e",
        "own",
        *VIEWER,
        "origination.add_application",
        "origination.change_application",
        "origination.submit_application",
        "collateral.manage_collateral",
    )
    owner = UserFactory(username="am1", display_name="张经理", org_unit=org["team_a"], roles=[am])
    lead = UserFactory(
        username="tl1",
        display_name="钱主管",
        org_unit=org["team_b"],
        roles=[_role("team_lead", "branch", *VIEWER)],
    )
    risk = UserFactory(
        username="rm1",
        display_name="孙风控",
        org_unit=org["head"],
        roles=[_role("risk_manager", "all", *VIEWER, "collateral.approve_collateral_release")],
    )
    product = Product.objects.create(code="dyd", name="抵押经营贷")
    pv = ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("3000000"),
        min_months=3,
        max_months=36,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_installment",
        allocation_order=["penalty", "fee", "interest", "principal"],
        required_documents=["营业执照", "财务报表"],
    )
    from credo.core.validators import uscc_check_char

    body = "91140100MA0000718"
    customer = customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "太原抵押测试有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140105",
            "registered_capital": "800000",
            "industry": "E",
            "founded_on": dt.date(2019, 6, 1),
        },
    )
    return {"owner": owner, "lead": lead, "risk": risk, "customer": customer, "pv": pv}


def test_collateral_on_application_shows_ltv_on_approval_task(page, login, world):
    page.set_default_timeout(30_000)  # the shared machine is busy
    owner = world["owner"]
    app = services.application_create(
        customer=world["customer"],
        product_version=world["pv"],
        amount=Money("300000"),
        months=12,
        annual_rate=Decimal("10"),
        purpose="购买施工设备",
        actor=owner,
    )
    services.document_upload(
        application=app, item="营业执照", name="执照.png", data=_png((40, 30)), actor=owner
    )
    services.document_upload(
        application=app, item="财务报表", name="报表.xlsx", data=_xlsx(), actor=owner
    )

    login(owner)
    page.goto(f"{page.base_url}/origination/applications/{app.pk}/")
    assert "尚未登记押品或保证合同" in page.inner_text("#application-security")
    page.click("#application-security-add-collateral")
    page.wait_for_selector("#collateral-form")
    assert app.number in page.inner_text("#collateral-target")
    page.select_option("#id_kind", "mortgage")
    page.select_option("#id_category", "real_estate")
    page.fill("#id_description", "太原市小店区长风街 8 号商铺")
    page.fill("#id_registration_number", "晋(2026)太原市不动产证明第0009876号")
    page.fill("#id_registered_on", "2026-01-10")
    page.fill("#id_expires_on", "2029-01-10")
    page.fill("#id_value", "500000")
    page.fill("#id_valued_on", "2026-01-05")
    page.fill("#id_appraiser", "山西某估价有限公司")
    page.select_option("#id_method", "market")
    page.click("#collateral-save")
    page.wait_for_url(f"**/origination/applications/{app.pk}/")
    panel = page.inner_text("#application-security")
    assert "500,000.00" in panel and "60.00%" in panel
    assert "超过最高抵押率" not in panel
    assert page.console_errors == []

    services.application_submit(application=app, actor=owner)
    page.context.clear_cookies()
    login(world["lead"])
    page.goto(f"{page.base_url}/approvals/inbox/")
    page.get_by_role("link", name="处理").first.click()
    page.wait_for_url("**/approvals/tasks/*/")
    panel = page.locator("#approval-application #application-security")
    assert panel.locator("[data-role=ltv]").inner_text() == "60.00%"
    assert "太原市小店区长风街 8 号商铺" in panel.inner_text()
    assert panel.locator("#application-security-add-collateral").count() == 0
    assert page.console_errors == []


def test_paid_off_loan_release_approved_by_second_person(page, login, world):
    page.set_default_timeout(30_000)  # the shared machine is busy
    owner, risk = world["owner"], world["risk"]
    loan = lending_services.loan_create(
        customer=world["customer"],
        product_version=world["pv"],
        principal=Money("200000"),
        annual_rate=Decimal("8"),
        months=12,
        actor=owner,
    )
    house = collateral_services.collateral_create(
        actor=owner,
        owner=world["customer"],
        kind="mortgage",
        category="real_estate",
        description="太原市迎泽区柳巷 3 号住宅",
        registration_number="晋(2025)0001",
        registered_on=dt.date(2025, 3, 1),
        loan=loan,
    )
    # the close of business finds the loan paid off
    Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.PAID_OFF)
    assert jobs.open_release_requests(dt.date(2026, 6, 1))["collateral_requests"] == 1

    login(owner)  # the account manager (the requester) cannot approve
    page.goto(f"{page.base_url}/collateral/{house.pk}/")
    assert "待他人审批" in page.inner_text("#release-requests")
    assert page.locator("form.release-decide").count() == 0

    page.context.clear_cookies()
    login(risk)
    page.goto(f"{page.base_url}/collateral/")
    assert "太原市迎泽区柳巷 3 号住宅" in page.inner_text("#pending-releases")
    page.locator("#pending-releases a").first.click()
    page.wait_for_selector("#release-requests")
    page.fill("form.release-decide input[name=note]", "已结清，同意解押")
    page.locator("form.release-decide button[value=approve]").click()
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#collateral-status") == "已解押"
    assert page.inner_text("#collateral-released-on") != "—"
    assert "已批准" in page.inner_text("#release-requests")
    assert page.console_errors == []

    page.context.clear_cookies()
    login(owner)
    page.goto(f"{page.base_url}/todo/")
    assert "办理解押手续" in page.inner_text("body")
