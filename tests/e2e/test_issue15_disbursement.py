"""Browser, issue 15 items 6 and 7: an account manager (default role) cannot create a loan
directly; a loan created directly is marked 未经申请审批 with its creator where finance confirms
the disbursement; a back-dated value date is refused in Chinese and nothing changes."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.accounts.models import Role
from credo.accounts.roles import ensure_default_roles
from credo.core import clock
from credo.core.audit.models import AuditEntry
from credo.lending.models import Loan
from tests.e2e.test_lending import _borrower, _product_version
from tests.factories import UserFactory
from tests.lending.conftest import book_on

pytestmark = pytest.mark.django_db(transaction=True)


def test_account_manager_has_no_direct_new_loan(page, login, org):
    ensure_default_roles()
    am = UserFactory(
        username="am_e2e15",
        display_name="张经理",
        org_unit=org["team_a"],
        roles=[Role.objects.get(code="account_manager")],
    )
    login(am)
    page.goto(f"{page.base_url}/lending/loans/")
    assert page.locator("a[href='/lending/loans/new/']").count() == 0
    response = page.goto(f"{page.base_url}/lending/loans/new/")
    assert response is not None and response.status == 403
    assert page.locator("#loan-form").count() == 0
    assert AuditEntry.objects.filter(action="loan.create_direct_denied", actor_id=am.pk).exists()


def test_direct_loan_flagged_and_back_dated_disbursement_refused(page, login, org, owner):
    ensure_default_roles()
    borrower = _borrower(owner)
    pv = _product_version()
    admin = UserFactory(
        username="admin_e2e15",
        display_name="赵管理员",
        org_unit=org["head"],
        roles=[Role.objects.get(code="admin")],
    )
    fin = UserFactory(
        username="fin_e2e15",
        display_name="周财务",
        org_unit=org["head"],
        roles=[Role.objects.get(code="finance")],
    )
    login(admin)
    page.goto(f"{page.base_url}/lending/loans/")
    page.click("a[href='/lending/loans/new/']")
    assert "不经过贷款申请、审批和合同签署" in page.inner_text("#direct-loan-warning")
    page.select_option("#id_customer", str(borrower.pk))
    page.select_option("#id_product_version", str(pv.pk))
    page.fill("#id_principal", "50000")
    page.fill("#id_annual_rate", "12")
    page.fill("#id_months", "12")
    page.click("#loan-form button[type=submit]")
    page.wait_for_selector("#loan-status:has-text('待放款')")
    loan = Loan.objects.get()
    assert "未经申请审批" in page.inner_text("#loan-origin")

    page.context.clear_cookies()
    login(fin)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    assert "未经申请审批" in page.inner_text("#loan-origin-direct")
    assert "赵管理员" in page.inner_text("#loan-origin-direct")
    assert "未经申请审批：由 赵管理员 直接新建" in page.inner_text("#disburse-origin")
    today = clock.today()
    assert page.input_value("#disburse-form input[name=value_date]") == today.isoformat()
    back = today - dt.timedelta(days=70)
    page.fill("#disburse-form input[name=value_date]", back.isoformat())
    page.click("#disburse-form button[type=submit]")
    page.wait_for_selector("#credo-alerts .alert-danger")
    # created today: never before its creation, whatever the permission
    assert f"放款日不能早于贷款创建日（{today.isoformat()}）" in page.inner_text("#credo-alerts")
    assert page.inner_text("#loan-status").strip() == "待放款"

    # the same loan as if created 100 days ago: the default finance role may not back-date
    book_on(loan, today - dt.timedelta(days=100))
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    page.fill("#disburse-form input[name=value_date]", back.isoformat())
    page.click("#disburse-form button[type=submit]")
    page.wait_for_selector("#credo-alerts .alert-danger")
    assert "放款日不能早于今天" in page.inner_text("#credo-alerts")
    assert "放款日倒签" in page.inner_text("#credo-alerts")
    assert page.inner_text("#loan-status").strip() == "待放款"
    loan.refresh_from_db()
    assert loan.status == Loan.Status.PENDING and not loan.installments.exists()
    assert AuditEntry.objects.filter(action="loan.disburse_refused", actor_id=fin.pk).count() == 2

    page.fill("#disburse-form input[name=value_date]", today.isoformat())
    page.click("#disburse-form button[type=submit]")
    page.wait_for_selector("#loan-status:has-text('正常')")
    loan.refresh_from_db()
    assert loan.start_date == today
    assert page.console_errors == []
