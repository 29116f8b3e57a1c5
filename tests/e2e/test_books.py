# ruff: noqa: F811  (pytest fixtures imported by name)
"""Browser: finance closes a month on 会计期间, reads its 科目余额表 (stored at the close, debits
= credits), opens an account's 明细账, exports the month's vouchers for 用友 U8 (the same bytes
as the service), and a second person approves a 反结账."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.lending.books import vouchers
from credo.lending.books.models import AccountingPeriod
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)
from tests.lending.test_books import (  # noqa: F401  (fixtures)
    accountant,
    book,
    books_role,
    controller,
    eod_done,
    naive,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_close_month_view_trial_balance_export_vouchers_and_reopen(
    page, login, book, accountant, controller
):
    eod_done(dt.date(2026, 1, 31))
    page.on("dialog", lambda dialog: dialog.accept())
    login(accountant)
    page.goto(f"{page.base_url}/lending/books/periods/")
    row = page.locator("#period-table tr[data-period='2026-01']")
    assert row.locator("[data-status]").inner_text().strip() == "未结账"
    # February cannot be closed yet: its last close of business has not run
    assert "日终" in page.locator("#period-table tr[data-period='2026-02']").inner_text()
    row.locator("button.period-close").click()
    page.wait_for_selector("#period-table tr[data-period='2026-01'] [data-status='closed']")
    assert AccountingPeriod.objects.get(month=dt.date(2026, 1, 1)).status == "closed"

    page.click("#period-table tr[data-period='2026-01'] a")
    page.wait_for_selector("#tb-table")
    assert page.inner_text("#tb-status").count("已结账") == 1
    assert page.locator("#tb-balanced").count() == 1
    totals = page.locator("#tb-totals")
    assert (
        totals.locator("[data-col=debit]").inner_text()
        == totals.locator("[data-col=credit]").inner_text()
    )
    cash = naive(dt.date(2026, 1, 1))["cash"]
    assert page.locator("#tb-table tr[data-account=cash] [data-col=credit]").inner_text() == (
        f"{cash[2] / 100:,.2f}"
    )
    with page.expect_download() as info:
        page.click("#tb-xlsx")
    assert info.value.suggested_filename == "trial-balance-2026-01.xlsx"

    page.click("#tb-table tr[data-account=cash] a")
    page.wait_for_selector("#gl-lines")
    balances = page.locator("#gl-lines .gl-balance").all_inner_texts()
    # opening + debits − credits: the full principal paid out, the upfront fee paid back
    assert balances[-1] == f"{(cash[0] + cash[1] - cash[2]) / 100:,.2f}"

    page.goto(f"{page.base_url}/lending/books/vouchers/")
    page.select_option("#id_system", "yonyou_u8")
    page.fill("#id_period", "2026-01")
    page.select_option("#id_mode", "detailed")
    with page.expect_download() as info:
        page.click("#voucher-download")
    download = info.value
    assert download.suggested_filename == "vouchers-yonyou_u8-2026-01-detailed.xlsx"
    with open(download.path(), "rb") as fh:
        assert fh.read() == vouchers.voucher_xlsx("yonyou_u8", dt.date(2026, 1, 1))

    # 反结账: requested by the accountant, approved by the controller
    page.goto(f"{page.base_url}/lending/books/periods/")
    row = page.locator("#period-table tr[data-period='2026-01']")
    row.locator("input.reopen-reason").fill("补记一月手续费")
    row.locator("button.period-reopen").click()
    page.wait_for_selector("#period-table tr[data-period='2026-01'] [data-status='reopening']")
    assert (
        page.locator("#period-table tr[data-period='2026-01'] .period-reopen-approve").count() == 0
    )
    page.context.clear_cookies()
    login(controller)
    page.goto(f"{page.base_url}/lending/books/periods/")
    page.click("#period-table tr[data-period='2026-01'] .period-reopen-approve")
    page.wait_for_selector("#period-table tr[data-period='2026-01'] [data-status='open']")
    assert AccountingPeriod.objects.get(month=dt.date(2026, 1, 1)).status == "open"
    assert page.console_errors == []
