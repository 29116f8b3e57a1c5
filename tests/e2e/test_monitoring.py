"""Browser: a loan 30+ days overdue → the monitoring batch raises an alert → the risk manager
opens 预警, opens the alert, freezes the credit limit with a reason and closes it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from credo.core.money import Money
from credo.customers.models import Customer
from credo.lending.models import CreditLimit, Installment, Loan, Product, ProductVersion
from credo.monitoring.batch import run_monitoring
from credo.monitoring.models import Alert
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _perms(*names):
    out = []
    for full in names:
        app, code = full.split(".")
        out.append(Permission.objects.get(content_type__app_label=app, codename=code))
    return out


def test_risk_manager_freezes_limit_and_closes_alert(page, login, org, owner):
    today = timezone.localdate()
    cust = Customer.objects.create(
        kind="enterprise",
        name="晋中预警测试有限公司",
        owner=owner,
        team=org["team_a"],
        branch=org["b1"],
    )
    CreditLimit.objects.create(customer=cust, amount=Money("800000"), updated_by=owner)
    pv = ProductVersion.objects.create(
        product=Product.objects.create(code="e2e-mon", name="经营贷"),
        number=1,
        status="published",
        min_amount=Money("1000"),
        max_amount=Money("5000000"),
        min_months=1,
        max_months=60,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_principal",
        allocation_order=["penalty", "fee", "interest", "principal"],
    )
    due = today - dt.timedelta(days=33)
    loan = Loan.objects.create(
        number="E2EMON01",
        customer=cust,
        product_version=pv,
        principal=Money("100000"),
        annual_rate=Decimal("12"),
        months=2,
        method="equal_principal",
        penalty_multiplier=Decimal("1.5"),
        status="overdue",
        dpd=33,
        start_date=due - dt.timedelta(days=30),
        maturity_date=today + dt.timedelta(days=28),
        outstanding_principal=Money("100000"),
        owner=owner,
        team=org["team_a"],
        branch=org["b1"],
        created_by=owner,
    )
    for period, day in ((1, due), (2, today + dt.timedelta(days=28))):
        Installment.objects.create(
            loan=loan,
            period=period,
            due_date=day,
            principal_due=Money("50000"),
            interest_due=Money("500"),
            status="overdue" if day < today else "scheduled",
        )
    role = RoleFactory(code="risk_manager", name="风险经理", data_scope="branch")
    role.permissions.add(
        *_perms(
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
