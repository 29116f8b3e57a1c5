"""Browser: the whole pre-loan flow.

Staff creates a portal link; the customer uploads through it; a reviewer rejects one document →
correction notice on the portal; the customer re-uploads and submits → admission passes → two
approvers (team lead, risk manager) approve on the application page → contract generated and
signed (simulated provider) → loan created, pending disbursement by finance.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from credo.core.money import Money
from credo.customers import services as customer_services
from credo.lending.models import Loan, Product, ProductVersion
from credo.origination import services
from credo.origination.models import Application
from tests.e2e.axe import assert_accessible
from tests.factories import UserFactory
from tests.factories import png_bytes as _png
from tests.factories import role_with_perms as _role
from tests.factories import xlsx_bytes as _xlsx

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(org, settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "docs")
    am = _role(
        "account_manager_e2e",
        "own",
        "origination.view_application",
        "origination.add_application",
        "origination.change_application",
        "origination.submit_application",
        "origination.manage_portal_links",
        "customers.view_customer",
        "contracts.view_contract",
        "contracts.send_contract",
        "approvals.view_approvalinstance",
        "lending.view_loan",
    )
    owner = UserFactory(username="am1", display_name="张经理", org_unit=org["team_a"], roles=[am])
    reviewer = UserFactory(
        username="rv1",
        display_name="赵审核",
        org_unit=org["head"],
        roles=[
            _role(
                "doc_review", "all", "origination.view_application", "origination.review_documents"
            )
        ],
    )
    viewer = ("origination.view_application", "approvals.view_approvalinstance")
    lead = UserFactory(
        username="tl1",
        display_name="钱主管",
        org_unit=org["team_b"],
        roles=[_role("team_lead", "branch", *viewer)],
    )
    risk = UserFactory(
        username="rm1",
        display_name="孙风控",
        org_unit=org["head"],
        roles=[_role("risk_manager", "all", *viewer)],
    )
    product = Product.objects.create(code="jyd", name="经营贷")
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

    body = "91140100MA0000777"
    customer = customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "太原门户测试有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140105",
            "registered_capital": "3000000",
            "industry": "C",
            "founded_on": dt.date(2012, 5, 1),
        },
    )
    app = services.application_create(
        customer=customer,
        product_version=pv,
        amount=Money("300000"),
        months=12,
        annual_rate=Decimal("10"),
        purpose="购买生产设备",
        actor=owner,
    )
    return {"owner": owner, "reviewer": reviewer, "lead": lead, "risk": risk, "app": app}


def _as(page, login, user):
    page.context.clear_cookies()
    login(user)


def _upload(page, item, name, mime, data):
    row = page.locator(f"#portal-checklist [data-item='{item}']")
    row.locator("input[type=file]").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )
    row.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def test_portal_to_loan(page, login, world):
    app = world["app"]
    detail = f"{page.base_url}/origination/applications/{app.pk}/"
    page.on("dialog", lambda dialog: dialog.accept())

    # staff generates the customer's link (shown once)
    _as(page, login, world["owner"])
    page.goto(detail)
    page.click("#create-link")
    portal_url = page.input_value("#portal-url")
    assert "/portal/" in portal_url

    # the customer uploads both items without logging in
    page.context.clear_cookies()
    page.goto(portal_url)
    assert "太原门户测试有限公司" in page.inner_text("#portal-summary")
    _upload(page, "营业执照", "执照.png", "image/png", _png())
    _upload(page, "财务报表", "报表.xlsx", "application/octet-stream", _xlsx())
    assert page.inner_text("#portal-progress-label") == "100%"

    # staff rejects the licence → correction notice
    _as(page, login, world["reviewer"])
    page.goto(detail)
    row = page.locator("#checklist tr[data-item='营业执照']")
    row.locator("input[name=reason]").fill("照片不清晰，请重新拍摄")
    row.locator("button[value=reject]").click()
    page.wait_for_selector("#correction-notice")
    page.locator("#checklist tr[data-item='财务报表'] button[value=accept]").click()
    page.wait_for_load_state("networkidle")

    # the customer sees the notice, re-uploads, submits
    page.context.clear_cookies()
    page.goto(portal_url)
    notice = page.inner_text("#correction-notice")
    assert "营业执照" in notice and "照片不清晰" in notice
    assert page.locator("#portal-submit").count() == 0
    _upload(page, "营业执照", "执照2.png", "image/png", _png())
    assert page.locator("#correction-notice").count() == 0
    page.click("#portal-submit button")
    page.wait_for_selector("#portal-done #portal-status:has-text('审批中')")
    # the link is used up: a reload shows a clear page and changes nothing
    response = page.goto(portal_url)
    assert response.status == 410 and "已使用" in page.inner_text("#portal-gone")
    assert page.console_errors == [
        "Failed to load resource: the server responded with a status of 410 (Gone)"
    ]
    page.console_errors.clear()  # the expected 410 above
    app.refresh_from_db()
    assert app.status == "in_approval" and app.admission_passed is True

    # two-level approval by two different users
    for user in (world["lead"], world["risk"]):
        _as(page, login, user)
        page.goto(detail)
        assert page.inner_text("#admission-result").strip() == "准入通过"
        assert_accessible(page, "application")
        page.fill("#approve-comment", "同意")
        page.click("#approve-submit")
        page.wait_for_load_state("networkidle")
    app.refresh_from_db()
    assert app.status == "contract_sent"

    # contract signed through the simulated provider → loan pending disbursement
    _as(page, login, world["owner"])
    page.goto(detail)
    assert page.inner_text("#contract-status") == "待签署" or page.locator("#contract-card").count()
    page.click("#contract-simulate-sign")
    page.wait_for_selector("#loan-created")
    page.goto(detail)
    assert page.inner_text("#application-status") == "待放款"
    app.refresh_from_db()
    loan = Loan.objects.get(pk=app.loan_id)
    assert loan.status == "pending" and loan.principal.fen == 30_000_000
    assert Application.objects.get(pk=app.pk).status == "loan_created"
    assert page.console_errors == []
