"""Browser: quote a mortgage with the schedule calculator (htmx swaps the table in place)."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_quote_in_browser(page, login):
    user = UserFactory(username="calc_user", display_name="试算员")
    login(user)
    page.goto(f"{page.base_url}/lending/calculator/")
    page.fill("input[name=principal]", "1000000")
    page.fill("input[name=annual_rate]", "4.9")
    page.fill("input[name=months]", "360")
    page.select_option("select[name=method]", "equal_installment")
    page.fill("input[name=start]", "2026-01-15")
    page.click("#calculator-form button[type=submit]")
    page.wait_for_selector("#schedule-table")
    assert page.inner_text("#first-payment") == "5,307.27"
    assert page.locator("#schedule-table tbody tr").count() == 360
    assert "principal=1000000" in page.url  # the quote is a shareable link
    assert page.console_errors == []
