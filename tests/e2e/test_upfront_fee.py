"""Browser (issue 20 item 3, no 砍头息): the product page says how its upfront fee is collected;
a pending loan's disbursement says the full principal is paid out and the fee is a separate
receivable; a disbursed loan shows the fee, its collection and whether it is still owed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from credo.accounts.models import Role
from credo.accounts.roles import ensure_default_roles
from credo.core import clock
from credo.core.money import Money
from credo.lending import services
from tests.e2e.test_lending import _borrower, _product_version
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_product_and_loan_pages_show_the_fee_as_a_separate_receivable(page, login, org, owner):
    ensure_default_roles()
    pv = _product_version()
    pv.upfront_fee_rate = Decimal("1")
    pv.upfront_fee_timing = "first_installment"
    pv.save(update_fields=["upfront_fee_rate", "upfront_fee_timing"])
    admin = UserFactory(
        username="admin_upfront",
        display_name="赵管理员",
        org_unit=org["head"],
        roles=[Role.objects.get(code="admin")],
    )
    loan = services.loan_create(
        customer=_borrower(owner),
        product_version=pv,
        principal=Money("120000"),
        annual_rate=Decimal("12"),
        months=12,
        actor=owner,
    )

    login(admin)
    page.goto(f"{page.base_url}/lending/versions/{pv.pk}/")
    page.wait_for_selector("#product-upfront-fee")
    assert page.inner_text("#product-upfront-fee-timing") == "随首期还款收取"
    assert "不从放款金额中扣除" in page.inner_text("#product-upfront-fee")
    assert page.input_value("select[name=v-upfront_fee_timing]") == "first_installment"

    fin = UserFactory(
        username="fin_upfront",
        display_name="周财务",
        org_unit=org["head"],
        roles=[Role.objects.get(code="finance")],
    )
    page.context.clear_cookies()
    login(fin)
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    text = page.inner_text("#disburse-amount")
    assert "本金全额 ¥120,000.00" in text or "本金全额 120,000.00" in text
    assert "随首期还款收取" in text
    assert page.inner_text("#loan-upfront-fee-timing") == "随首期还款收取"

    services.loan_disburse(loan=loan, actor=fin, value_date=clock.today())
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    status = page.inner_text("#loan-upfront-fee-status")
    assert "应收未收" in status and "第 1 期" in status
    first = loan.installments.get(period=1)
    assert first.fee_due.fen == 120_000
    assert page.console_errors == []
