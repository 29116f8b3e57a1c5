# ruff: noqa: F811  (pytest fixtures imported by name)
"""Browser: 人工分类调整 requested on the loan page by one user, approved by another; the loan's
class and its 五级分类历史 show the manual change."""

from __future__ import annotations

import pytest

from credo.lending.models import ClassificationRequest, Loan
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    borrower,
    finance,
    make_loan,
    product_version,
)
from tests.lending.test_waiver_fixtures import (  # noqa: F401  (fixtures)
    collector,
    overdue_loan,
    risk,
    risk_role,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_manual_downgrade_in_browser(page, login, overdue_loan, collector, risk):
    page.on("dialog", lambda dialog: dialog.accept())
    login(collector)
    page.goto(f"{page.base_url}/lending/loans/{overdue_loan.pk}/")
    page.click("#request-classification")
    page.select_option("select[name=to_class]", "substandard")
    page.fill("textarea[name=reason]", "借款人主营业务停产")
    page.click("#class-submit")
    page.wait_for_selector("#request-status")
    req = ClassificationRequest.objects.get()

    page.context.clear_cookies()
    login(risk)
    page.goto(f"{page.base_url}/lending/servicing/classifications/")
    page.click(f"#class-table a[href$='/classifications/{req.pk}/']")
    page.click("#class-approve")
    page.wait_until(
        "() => document.querySelector('#request-status')?.textContent.includes('已批准')"
    )
    page.click("#back-to-loan")
    page.wait_for_selector("#class-history-table")
    assert page.inner_text("#loan-classification").strip() == "次级"
    assert "人工" in page.inner_text("#class-history-table")
    assert page.is_visible("#classification-floor")
    assert Loan.objects.get(pk=overdue_loan.pk).classification_floor == "substandard"
    assert page.console_errors == []
