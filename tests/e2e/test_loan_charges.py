"""Browser: charge a fee (收费) on the loan page, see it in the 收费 tab and reverse it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.core import clock
from credo.lending import services
from credo.lending.models import LoanCharge
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_charge_a_fee_on_the_loan_page(page, login, org, make_loan, finance):  # noqa: F811
    finance.roles.first().permissions.add(
        *Permission.objects.filter(codename__in=["view_loan", "charge_fee"])
    )
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    login(finance)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    page.click("#charge-link")
    page.select_option("#id_kind", "breach")
    page.fill("#id_amount", "88.80")
    page.fill("#id_charged_on", clock.today().isoformat())
    page.fill("#id_memo", "逾期违约金（合同第九条）")
    page.click("#charge-submit")
    page.wait_for_selector("#loan-status")
    page.click("#charges-tab")
    page.wait_for_selector("#charge-table")
    row = page.inner_text("#charge-table tbody tr")
    assert "违约金" in row and "88.80" in row and "合同第九条" in row
    charge = LoanCharge.objects.get(loan=loan)
    assert charge.amount.fen == 8_880 and charge.due_period is not None
    page.fill("#charge-table input[name=reason]", "重复收取")
    page.click("#charge-table button[type=submit]")
    page.wait_for_selector("#loan-status")
    page.click("#charges-tab")
    page.wait_for_selector("#charge-table .badge")
    assert "已冲销" in page.inner_text("#charge-table tbody tr")
    charge.refresh_from_db()
    assert charge.reversed_at is not None
    assert page.console_errors == []
