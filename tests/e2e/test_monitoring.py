"""Browser: a loan 30+ days overdue → the monitoring batch raises an alert → the risk manager
opens 预警, opens the alert, freezes the credit limit with a reason and closes it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from credo.core.money import Money
from credo.lending.models import CreditLimit
from credo.monitoring.batch import run_monitoring
from credo.monitoring.models import Alert
from tests.factories import RoleFactory, UserFactory, overdue_loan, perms

pytestmark = pytest.mark.django_db(transaction=True)


def test_risk_manager_freezes_limit_and_closes_alert(page, login, org, owner):
    today = timezone.localdate()
    loan = overdue_loan(
        org,
        owner,
        today,
        customer_name="晋中预警测试有限公司",
        number="E2EMON01",
        product_code="e2e-mon",
    )
    cust = loan.customer
    CreditLimit.objects.create(customer=cust, amount=Money("800000"), updated_by=owner)
    role = RoleFactory(code="risk_manager", name="风险经理", data_scope="branch")
    role.permissions.add(
        *perms(
            "monitoring.view_alert",
            "monitoring.handle_alert",
            "lending.manage_limits",
            "lending.view_loan",
        )
    )
    rm = UserFactory(username="rm_e2e", display_name="赵风险", org_unit=org["b1"], roles=[role])

    run_monitoring(today)
    alert = Alert.objects.get(loan=loan, rule_code="dpd_30")
    assert alert.assignee == rm

    login(rm)
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#sidebar-menu a.nav-link", has_text="预警").first.click()
    page.wait_for_selector("#alert-table")
    page.click("#alert-table >> text=逾期30天以上")
    page.wait_for_selector("#alert-snapshot")
    assert "逾期天数 ≥ 30" in page.inner_text("#alert-reasons")
    page.fill("#id_freeze_limit-reason", "逾期33天，暂停用信")
    page.click("#act-freeze_limit button[type=submit]")
    page.wait_for_selector("#limit-state:has-text('已冻结')")
    assert CreditLimit.objects.get(customer=cust).frozen is True
    page.fill("#id_close-conclusion", "已冻结额度，移交催收跟进")
    page.click("#act-close button[type=submit]")
    page.wait_for_selector("#alert-status:has-text('已关闭')")
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.conclusion == "已冻结额度，移交催收跟进"
    assert "冻结授信额度" in page.inner_text("#alert-trail")
    assert page.console_errors == []
