# ruff: noqa: F811  (pytest fixtures imported by name)
"""Browser: finance generates the closed month's 征信报送 data, exports it as GB18030 text and
downloads it; a second person approves it and marks it 已报送."""

from __future__ import annotations

from pathlib import Path

import pytest

from credo.creditreport.models import Submission
from credo.creditreport.writers import read_text
from tests.creditreport.conftest import book, checker, reporter  # noqa: F401  (fixtures)
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    borrower,
    finance,
    make_loan,
    product_version,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_generate_export_download_approve_submit(page, login, book, reporter, checker):
    login(reporter)
    page.goto(f"{page.base_url}/creditreport/")
    page.click("button[data-generate='2026-02']")
    page.wait_for_selector("#sub-counts")
    sub = Submission.objects.get()
    assert page.inner_text("#count-records").strip() == "1"
    assert page.inner_text("#count-errors").strip() == "0"
    row = page.locator(f"#record-table tr[data-account='{book.number}']")
    assert row.locator("code.status-string").inner_text().endswith("*1")
    assert book.customer.uscc not in page.content()  # masked on screen
    # 审核 is not offered to the person who generated it
    assert page.locator("#approve-btn").count() == 0
    page.select_option("#f-writer", "reference-text")
    page.select_option("#f-encoding", "gb18030")
    page.click("#export-btn")
    page.wait_for_selector("#file-table a.file-download")
    with page.expect_download() as info:
        page.click("#file-table a.file-download")
    data = Path(info.value.path()).read_bytes()
    [rec] = read_text(data, "gb18030")
    assert rec["account_number"] == book.number and rec["id_number"] == book.customer.uscc

    page.context.clear_cookies()
    login(checker)
    page.goto(f"{page.base_url}/creditreport/{sub.pk}/")
    page.click("#approve-btn")
    page.wait_for_selector("#submit-btn")
    page.click("#submit-btn")
    page.wait_until("() => document.querySelector('#sub-status').textContent.includes('已报送')")
    sub.refresh_from_db()
    assert (sub.status, sub.generated_by, sub.approved_by) == ("submitted", reporter, checker)
    assert not page.console_errors
