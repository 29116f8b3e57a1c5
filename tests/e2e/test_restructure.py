"""Browser: request a 展期 on the loan page, see the quote, submit; a second user (风控经理)
approves it from the approval inbox; the loan is restructured."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from credo.lending import services
from credo.lending.models import Loan, Restructuring
from tests.e2e.test_approvals import _role
from tests.factories import UserFactory
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    borrower,
    finance,
    make_loan,
    product_version,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_extension_requested_quoted_and_approved_by_a_second_user(
    page,
    login,
    org,
    owner,
    make_loan,  # noqa: F811
    finance,  # noqa: F811
):
    owner.roles.first().permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending", codename__in=["view_loan", "request_restructure"]
        )
    )
    start = dt.date.today() - dt.timedelta(days=20)
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=start)
    risk_role = _role("risk_manager", "风控经理")
    risk_role.permissions.add(Permission.objects.get(codename="view_loan"))
    risk = UserFactory(
        username="risk_rs_e2e", display_name="孙风控", org_unit=org["head"], roles=[risk_role]
    )

    login(owner)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    page.locator("#restructure-link").click()
    page.select_option("#id_kind", "extension")
    page.fill("#id_extend_months", "6")
    page.fill("#id_reason", "订单回款延迟，申请展期六个月")
    page.click("#restructure-quote-btn")
    page.wait_for_selector("#restructure-quote")
    assert page.locator("#quote-schedule tbody tr").count() == 18  # 12 periods + 6
    assert page.inner_text("#quote-rate").strip() == "12.0000%"
    page.click("#restructure-submit")
    page.wait_for_selector("#restructure-status")
    assert page.inner_text("#restructure-status").strip() == "待审批"
    assert page.locator("#restructure-approve").count() == 0  # the requester cannot approve
    assert page.console_errors == []
    page.context.clear_cookies()

    login(risk)
    page.goto(f"{page.base_url}/approvals/inbox/")
    page.get_by_role("link", name="处理").first.click()
    page.wait_for_url("**/approvals/tasks/*/")
    page.locator("#restructure-approval-panel").wait_for(state="visible")
    assert "展期" in page.inner_text("#restructure-approval-panel")
    page.click("#approve-submit")
    page.locator(".alert-success").wait_for(state="visible")

    r = Restructuring.objects.get(loan=loan)
    assert r.status == "executed" and r.approved_by == risk
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.classification == "special_mention"
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    page.locator("#restructure-table").wait_for(state="visible")
    assert "已执行" in page.inner_text("#restructure-table")
    assert page.locator("#restructure-floor").count() == 1
    assert page.console_errors == []
