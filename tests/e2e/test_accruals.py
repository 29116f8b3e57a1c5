# ruff: noqa: F811  (pytest fixtures imported by name)
"""Browser: the books page names the accounting basis (权责发生制 for a new book); the loan page
shows the interest accrued and not yet received, and — once the loan is non-accrual — the
interest held off balance (表外应收利息)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from credo.lending import eod, services
from credo.lending.accruals.models import LoanAccrual
from credo.lending.accruals.services import book_settings_update
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)
from tests.lending.test_books import accountant, books_role  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def test_books_page_basis_and_loan_page_accrued_and_off_balance(
    page, login, accountant, finance, org, make_loan
):
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    eod.run_eod(dt.date(2026, 2, 10))

    login(accountant)
    page.goto(f"{page.base_url}/lending/books/periods/")
    basis = page.locator("#book-basis [data-basis]")
    assert basis.get_attribute("data-basis") == "accrual"
    assert basis.inner_text().strip() == "权责发生制"
    assert "90 天" in page.inner_text("#book-basis")

    state = LoanAccrual.objects.get(loan=loan)
    assert state.interest_receivable > 0
    page.context.clear_cookies()
    role = RoleFactory(code="loan_view_acc", name="贷款查看", data_scope="all")
    role.permissions.add(
        Permission.objects.get(content_type__app_label="lending", codename="view_loan")
    )
    login(UserFactory(username="viewer_acc", org_unit=org["head"], roles=[role]))
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    assert _yuan(state.interest_receivable) in page.inner_text("#loan-interest-receivable")
    assert page.inner_text("#loan-off-balance-interest").strip().startswith("0.00")
    assert "应计" in page.inner_text("#loan-accrual-status")

    # over the threshold: the accrued interest is reversed and held off balance
    book_settings_update(basis="accrual", non_accrual_dpd=3, actor=finance)
    eod.run_eod(dt.date(2026, 2, 20))
    state.refresh_from_db()
    assert state.non_accrual_since is not None and state.interest_off_balance > 0
    page.reload()
    assert page.inner_text("#loan-interest-receivable").strip().startswith("0.00")
    assert _yuan(state.interest_off_balance) in page.inner_text("#loan-off-balance-interest")
    assert "非应计" in page.inner_text("#loan-accrual-status")
