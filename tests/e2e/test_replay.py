"""Browser: a repayment posted with a past value date (倒起息) on the loan page replays the loan:
正常 at once and a 倒起息调整 entry in the ledger tab."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from credo.core.money import Money
from credo.lending import eod, services
from credo.lending.models import JournalEntry, Loan
from tests.e2e.test_lending import _borrower, _product_version, _role
from tests.factories import UserFactory
from tests.lending.conftest import book_on

pytestmark = pytest.mark.django_db(transaction=True)


def test_back_valued_repayment_on_loan_page(page, login, org, owner):
    from decimal import Decimal

    pv = _product_version()
    loan = services.loan_create(
        customer=_borrower(owner),
        product_version=pv,
        principal=Money("120000"),
        annual_rate=Decimal("12"),
        months=12,
        actor=owner,
    )
    fin = UserFactory(
        username="fin_replay",
        org_unit=org["head"],
        roles=[
            _role(
                "fin_replay",
                "view_loan",
                "disburse_loan",
                "post_repayment",
                "run_eod",
                "backdate_disbursement",
            )
        ],
    )
    today = timezone.localdate()
    book_on(loan, today - dt.timedelta(days=75))
    loan = services.loan_disburse(loan=loan, actor=fin, value_date=today - dt.timedelta(days=70))
    eod.run_eod(today - dt.timedelta(days=1))
    loan.refresh_from_db()
    assert loan.status == Loan.Status.OVERDUE
    first, second = loan.installments.order_by("period")[:2]
    owed = sum(i.principal_due.fen + i.interest_due.fen + i.fee_due.fen for i in (first, second))
    login(fin)
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    page.click("#post-repayment")
    page.fill("#id_amount", f"{owed // 100}.{owed % 100:02d}")
    page.fill("#id_received_on", first.due_date.isoformat())
    page.locator("#id_amount").dispatch_event("change")
    page.click("#repayment-form button[type=submit]")
    page.wait_for_selector("#installment-table")
    page.goto(f"{page.base_url}/lending/loans/{loan.pk}/")
    assert page.inner_text("#loan-status").strip() == "正常"
    assert page.inner_text("#loan-dpd").strip() == "0"
    page.click("a[href='#tab-entries']")
    page.wait_for_selector("#entry-table", state="visible")
    assert "倒起息调整" in page.inner_text("#entry-table")
    assert JournalEntry.objects.filter(loan=loan, kind="adjustment").exists()
    assert page.console_errors == []
