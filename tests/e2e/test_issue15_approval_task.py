"""Browser, issue 15 (4, 10, 12): an approver opens a task from the inbox and sees, on the task
page itself, the requested terms, the admission result, the application scorecard (reasons in
plain words), the credit report's rules grade and which grade routed the approval, and the
documents (the licence photo previews inline). Routes and models are shown by name, never by
key. The credit report says which grade routes the approval."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from credo.core.money import Money
from credo.customers import services as customer_services
from credo.lending.models import Product, ProductVersion
from credo.origination import services
from credo.scorecard.models import ApplicationScore, Scorecard
from tests.factories import UserFactory
from tests.factories import png_bytes as _png
from tests.factories import role_with_perms as _role
from tests.factories import xlsx_bytes as _xlsx
from tests.scorecard.test_views import make_card

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
    UserFactory(
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

    body = "91140100MA0000515"
    customer = customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "太原两个评级测试有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140105",
            "registered_capital": "800000",
            "industry": "E",
            "founded_on": dt.date(2021, 6, 1),
        },
    )
    app = services.application_create(
        customer=customer,
        product_version=pv,
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
    make_card(1, Scorecard.Status.PUBLISHED)
    app = services.application_submit(application=app, actor=owner)
    return {"owner": owner, "lead": lead, "app": app}


def test_task_page_shows_what_the_approver_decides_on(page, login, world):
    app = world["app"]
    scored = ApplicationScore.objects.get(application=app)

    login(world["lead"])
    page.goto(f"{page.base_url}/approvals/inbox/")
    page.get_by_role("link", name="处理").click()
    page.wait_for_url("**/approvals/tasks/*/")

    # the requested terms
    assert page.inner_text("#approval-terms-amount") == "200,000.00 元"
    assert "购买施工设备" in page.inner_text("#approval-terms")
    # admission with its result and model by name
    assert "准入通过" in page.inner_text("#admission-result")
    assert page.inner_text("#admission-model") == "准入模型：贷款准入 第1版"
    # both grades, named apart, and which one routed
    assert page.inner_text("#routing-basis") == f"审批路由依据：申请评分卡等级 {scored.grade}"
    assert page.inner_text("#application-score-value") == str(scored.score)
    assert page.inner_text("#application-score-grade") == f"{scored.grade} 级"
    assert "信用报告规则评分" in page.inner_text("#rules-grade")
    app.refresh_from_db()
    assert app.risk_grade_source == "scorecard" and app.rules_grade
    assert app.rules_grade in page.inner_text("#rules-grade-value")
    reasons = page.inner_text("#application-score-reasons")
    assert reasons and "[" not in reasons and "（元）" not in reasons and "：" not in reasons
    # the documents: the licence photo previews inline, the files open through the document view
    preview = page.locator("#approval-documents img.approval-document-preview")
    preview.wait_for(state="visible")
    page.wait_until(
        "() => document.querySelector('#approval-documents img.approval-document-preview')"
        ".naturalWidth > 0"
    )
    rows = page.inner_text("#approval-documents")
    assert "营业执照" in rows and "执照.png" in rows and "报表.xlsx" in rows
    href = page.locator("#approval-documents a.document-download").last.get_attribute("href")
    assert page.request.get(page.base_url + href).status == 200
    # routes and models by name, never by key
    assert page.inner_text("#approval-route") == "标准审批"
    assert page.inner_text("#approval-basis") == "审批路径选择 第1版 · 贷款申请审批 第1版"
    body = page.inner_text("body")
    for key in ("(standard)", "approvals.route", "origination.application", "origination."):
        assert key not in body, key
    assert page.console_errors == []


def test_credit_report_says_which_grade_routes(page, login, world):
    app = world["app"]
    login(world["owner"])
    page.goto(f"{page.base_url}/origination/applications/{app.pk}/")
    assert page.inner_text("#routing-basis").startswith("审批路由依据：申请评分卡等级")
    page.click("#credit-report-link")
    page.wait_for_selector("#cr-routing")
    assert "申请评分卡等级（测试评分卡 v1）" in page.inner_text("#cr-routing")
    assert "规则评级" in page.inner_text("#cr-summary")
    assert "信用报告规则评分" in page.inner_text("#cr-summary")
    assert "origination.risk_score" not in page.inner_text("body")
    assert page.console_errors == []
