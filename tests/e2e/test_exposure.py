"""Browser, issue 22 (集中度): finance enters the net assets, the concentration report shows the
borrower's share and headroom, and the final approval of an application over the single
borrower limit is refused on the task page with the reason and the figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from credo.approvals.selectors import instance_for, open_task_of
from credo.approvals.services import approval_act
from credo.core.money import Money
from credo.customers import services as customer_services
from credo.lending import limits
from credo.lending.models import Product, ProductVersion
from credo.origination import services
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
        "customers.view_customer",
        "approvals.view_approvalinstance",
    )
    owner = UserFactory(username="am1", display_name="张经理", org_unit=org["team_a"], roles=[am])
    viewer = (
        "origination.view_application",
        "approvals.view_approvalinstance",
        "customers.view_customer",
    )
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
    finance = UserFactory(
        username="fin1",
        display_name="周财务",
        org_unit=org["head"],
        roles=[
            _role(
                "finance_e2e",
                "all",
                "lending.manage_exposure",
                "lending.view_exposure",
                "lending.manage_limits",
                "customers.view_customer",
            )
        ],
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

    body = "91140100MA0000522"
    customer = customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "太原集中度测试有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140105",
            "registered_capital": "800000",
            "industry": "E",
            "founded_on": dt.date(2021, 6, 1),
        },
    )
    # no net assets yet: the limit is set without a concentration check
    limits.limit_set(customer=customer, amount=Money("100000"), actor=finance, reason="年度授信")
    return {
        "owner": owner,
        "lead": lead,
        "risk": risk,
        "finance": finance,
        "customer": customer,
        "pv": pv,
    }


def _application(world):
    owner = world["owner"]
    app = services.application_create(
        customer=world["customer"],
        product_version=world["pv"],
        amount=Money("200000"),
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
    return services.application_submit(application=app, actor=owner)


def test_net_assets_report_and_refused_approval(page, login, world):
    login(world["finance"])
    page.goto(f"{page.base_url}/lending/exposure/")
    assert "未录入净资产" in page.inner_text("#exposure-warning")
    page.click("#exposure-net-assets")
    page.wait_for_url("**/lending/exposure/net-assets/")
    page.fill("#id_amount", "1500000")
    page.fill("#id_note", "2026 年 11 月末资产负债表")
    page.click("#save-net-assets")
    page.locator(".alert-success").wait_for(state="visible")
    assert "1,500,000.00" in page.inner_text("#net-assets-current")
    assert "周财务" in page.inner_text("#net-assets-table")

    page.goto(f"{page.base_url}/lending/exposure/")
    assert page.locator("#exposure-warning").count() == 0
    row = page.locator("#borrowers-table tbody tr").first.inner_text()
    # 100,000 of 1,500,000 = 6.67 %; headroom to 10 % = 150,000 − 100,000
    assert "太原集中度测试有限公司" in row and "100,000.00" in row
    assert "6.67%" in row and "50,000.00" in row
    assert page.console_errors == []
    page.context.clear_cookies()

    # 200,000 = 13.33 % of the net assets: a warning at submission, a refusal at approval
    app = _application(world)
    assert app.admission_reasons[-1]["code"] == "concentration"
    lead, risk = world["lead"], world["risk"]
    approval_act(task=open_task_of(instance_for(app), lead), actor=lead, action="approve")

    login(risk)
    page.goto(f"{page.base_url}/approvals/inbox/")
    page.get_by_role("link", name="处理").click()
    page.wait_for_url("**/approvals/tasks/*/")
    assert "集中度预警" in page.inner_text("#admission-reasons")
    page.fill("#approve-comment", "同意")
    page.click("#approve-submit")
    page.locator(".alert-danger").first.wait_for(state="visible")
    text = page.locator(".alert-danger").first.inner_text()
    assert "超过集中度限额，不能批准该申请" in text
    assert (
        "借款人 太原集中度测试有限公司 授信敞口 200,000.00 元，占净资产 13.33%，超过 10% 上限"
        in text
    )
    app.refresh_from_db()
    assert app.status == "in_approval"
    assert page.console_errors == []
