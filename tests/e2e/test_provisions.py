# ruff: noqa: F811  (pytest fixtures imported by name)
"""Browser: finance edits the provision rates (a new version; a rate outside the guideline's
band is refused), runs January's provisions from the report page, reads the report by class
and product, re-runs without a second posting, and exports the report."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.lending.models import JournalEntry
from credo.lending.provisions.models import ProvisionRates, ProvisionRun
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    borrower,
    finance,
    product_version,
)
from tests.lending.test_provisions import (  # noqa: F401  (fixtures)
    book,
    provisioner,
    second_version,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_edit_rates_run_month_and_read_report(page, login, book, provisioner):
    page.on("dialog", lambda dialog: dialog.accept())
    login(provisioner)
    page.goto(f"{page.base_url}/lending/provisions/rates/")
    assert "当前使用默认比例" in page.inner_text("#rates-current")
    page.fill("#id_substandard_pct", "31")
    page.fill("#id_note", "次级上浮")
    page.click("#save-rates")
    page.wait_for_selector("#rates-error")
    assert "20% 至 30%" in page.inner_text("#rates-error")
    assert not ProvisionRates.objects.exists()
    page.fill("#id_substandard_pct", "30")
    page.fill("#id_note", "次级上浮 20%")
    page.click("#save-rates")
    page.wait_for_selector("#rates-history td:has-text('v1')")
    assert "当前版本 v1" in page.inner_text("#rates-current")

    page.goto(f"{page.base_url}/lending/provisions/?period=2026-01")
    assert page.locator("#provision-none").count() == 1
    page.fill("#run-month", "2026-01")
    page.click("#provision-run")
    page.wait_for_selector("#provision-by-class")
    # 经营贷 120,000 正常 (1 %) + 50,000 次级 (1 % + 30 %); 消费贷 80,000 损失 (1 % + 100 %)
    required = page.locator("#provision-totals [data-col=required]").inner_text()
    assert required == "97,500.00"
    sub = page.locator("#provision-by-class tr[data-class=substandard]").inner_text()
    assert "30%" in sub and "15,000.00" in sub
    assert page.locator("#provision-by-product tbody tr").count() == 2
    assert ProvisionRun.objects.count() == 1
    entries = JournalEntry.objects.filter(kind="provision").count()
    assert entries == 2

    page.click("#provision-run")
    page.wait_for_selector("text=未重复记账")
    assert JournalEntry.objects.filter(kind="provision").count() == entries
    with page.expect_download() as info:
        page.click("#provision-xlsx")
    assert info.value.suggested_filename == "provisions-2026-01.xlsx"
    assert ProvisionRun.objects.get().month == dt.date(2026, 1, 1)
