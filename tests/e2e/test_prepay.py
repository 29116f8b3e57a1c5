"""Browser: quote a full payoff on the prepayment page and settle the loan."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from credo.lending import services
from credo.lending.models import Loan
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    borrower,
    finance,
    make_loan,
    product_version,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_full_payoff_in_browser(page, login, org, make_loan, finance):  # noqa: F811
    finance.roles.first().permissions.add(Permission.objects.get(codename="view_loan"))
    start = dt.date.today() - dt.timedelta(days=20)
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=start)
    login(finance)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    page.click("#prepay-link")
    page.click("#quote-form button[type=submit]")
    page.wait_for_selector("#prepay-quote")
    payoff = page.inner_text("#payoff-amount").strip()
    assert payoff.startswith("120")  # principal + 20 days of interest
    page.click("#prepay-form button[type=submit]")
    page.wait_for_selector("#loan-status")
    assert page.inner_text("#loan-status").strip() == "已结清"
    assert Loan.objects.get(pk=loan.pk).status == "paid_off"
    assert page.console_errors == []
