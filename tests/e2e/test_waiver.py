# ruff: noqa: F811  (pytest fixtures imported by name)
"""Browser: a collector requests a 罚息减免 on the loan page, a risk manager approves it, and the
loan page shows the penalty gone."""

from __future__ import annotations

import pytest

from credo.lending.models import Loan, WaiverRequest
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    borrower,
    finance,
    make_loan,
    product_version,
)
from tests.lending.test_waiver_fixtures import (  # noqa: F401  (fixtures)
    collector,
    overdue_loan,
    penalty_owed,
    risk,
    risk_role,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _penalty_cell(page) -> str:
    return page.inner_text("#installment-table tbody tr:first-child td:nth-child(6)").strip()


def test_waiver_requested_by_one_user_and_approved_by_another(
    page, login, overdue_loan, collector, risk
):
    owed = penalty_owed(overdue_loan)
    assert owed > 0
    page.on("dialog", lambda dialog: dialog.accept())

    login(collector)
    page.goto(f"{page.base_url}/lending/loans/{overdue_loan.pk}/")
    assert _penalty_cell(page) != "0.00"
    page.wait_for_selector("#class-history-table, #class-history-empty")
    page.click("#request-waiver")
    page.wait_for_selector("#waiver-owed-table")
    shown = page.inner_text('[data-owed="penalty"]').strip()
    assert shown == f"{owed / 100:,.2f}"
    page.fill("input[name=penalty]", f"{owed / 100:.2f}")
    page.fill("textarea[name=reason]", "借款人住院期间逾期，现已还款，申请减免罚息")
    page.click("#waiver-submit")
    page.wait_for_selector("#waiver-waiting")
    assert page.inner_text("#request-status").strip() == "待审批"

    page.context.clear_cookies()
    login(risk)
    page.goto(f"{page.base_url}/lending/servicing/waivers/")
    page.click(f"#waiver-table a[href$='/waivers/{WaiverRequest.objects.get().pk}/']")
    page.wait_for_selector("#waiver-approve")
    page.fill("#approve-note", "同意减免")
    page.click("#waiver-approve")
    page.wait_until(
        "() => document.querySelector('#request-status')?.textContent.includes('已批准')"
    )
    page.click("#back-to-loan")
    page.wait_for_selector("#installment-table")
    assert _penalty_cell(page) == "0.00"
    page.wait_for_selector("#servicing-requests")
    assert "已批准" in page.inner_text("#servicing-requests")
    assert penalty_owed(Loan.objects.get(pk=overdue_loan.pk)) == 0
    assert page.console_errors == []
