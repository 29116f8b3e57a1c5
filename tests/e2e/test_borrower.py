"""Browser, phone size (390×844): the borrower logs in with an SMS code, reads the schedule,
downloads the statement, files an early-repayment request; the account manager sees it."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Permission

from credo.borrower.models import BorrowerRequest
from tests.borrower.conftest import (  # noqa: F401 (fixtures)
    PHONE_A,
    _clear_rate_counters,
    cust_a,
    finance,
    last_code,
    loan_a,
    product_version,
)
from tests.e2e.axe import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = os.environ.get("CREDO_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"borrower-{name}.png"), full_page=True)


def test_borrower_phone_flow(page, login, cust_a, loan_a, owner, manager_role):  # noqa: F811
    manager_role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="borrower",
            codename__in=["review_borrowerrequest", "view_borrowerrequest"],
        )
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{page.base_url}/b/")
    assert "/b/login/" in page.url
    page.fill("#b-phone", PHONE_A)
    page.click("#otp-send")
    page.wait_for_selector("#otp-verify-form")
    _shot(page, "login")
    page.fill("#b-code", last_code(cust_a))
    page.click("#otp-verify")
    page.wait_for_selector("#privacy-form")
    _shot(page, "privacy")
    page.check("#privacy-accept")
    page.click("#privacy-submit")
    page.wait_for_selector("#b-loans")
    card = page.locator(f".b-loan[data-loan='{loan_a.number}']")
    first = loan_a.installments.order_by("period").first()
    assert first.due_date.isoformat() in card.inner_text()
    # nothing wider than the phone: no horizontal scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page, "borrower home")
    _shot(page, "home")

    card.click()
    page.wait_for_selector("#b-schedule")
    assert page.locator("#b-schedule tbody tr").count() == 12
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "schedule")
    with page.expect_download() as info:
        page.click("#b-statement")
    download = info.value
    assert download.suggested_filename.startswith(f"statement-{loan_a.number}")
    with open(download.path(), "rb") as fh:
        assert fh.read(4) == b"%PDF"

    page.click("#b-prepay-link")
    page.click("#b-quote")
    page.wait_for_selector("#b-prepay-quote")
    assert page.inner_text("#b-payoff").strip().startswith("120,")
    _shot(page, "prepay")
    page.on("dialog", lambda dialog: dialog.accept())
    page.fill("#b-note", "想一次结清")
    page.click("#b-prepay-submit")
    page.wait_for_selector("#b-requests")
    req = BorrowerRequest.objects.get()
    assert req.kind == "prepay" and req.loan_id == loan_a.pk and req.status == "submitted"
    assert req.number in page.inner_text("#b-requests")
    _shot(page, "home-after-request")
    assert page.console_errors == []

    # the account manager, in the same browser (the borrower cookie lives only under /b/)
    page.set_viewport_size({"width": 1440, "height": 900})
    login(owner)
    page.goto(f"{page.base_url}/borrower-requests/")
    row = page.locator(f"#br-table tr[data-number='{req.number}']")
    assert "全部结清" in row.inner_text()
    row.locator("a").click()
    page.fill("#br-note", "已电话确认")
    page.click("#br-accept")
    page.wait_for_selector("#br-status")
    assert page.inner_text("#br-status").strip() == "已受理"
    req.refresh_from_db()
    assert req.status == "accepted" and req.decided_by_id == owner.pk
    assert page.console_errors == []
