"""Browser: the 还款计划试算 page with a quarterly method, and the 贷款市场报价利率 page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from credo.core.audit.models import AuditEntry
from credo.lending.models import LprRate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_calculator_quarterly_in_browser(page, login):
    user = UserFactory(username="calc_q_user", display_name="试算员Q")
    login(user)
    page.goto(f"{page.base_url}/lending/calculator/")
    page.fill("input[name=principal]", "100000")
    page.fill("input[name=annual_rate]", "6")
    page.fill("input[name=months]", "12")
    page.select_option("select[name=method]", "equal_installment_quarterly")
    page.fill("input[name=start]", "2026-01-15")
    page.click("#calculator-form button[type=submit]")
    page.wait_for_selector("#schedule-table")
    assert page.inner_text("#first-payment") == "25,944.48"
    assert page.locator("#schedule-table tbody tr").count() == 4
    assert "2026-04-15" in page.inner_text("#schedule-table")
    assert page.console_errors == []


def test_lpr_page_add_and_edit(page, login):
    admin = UserFactory(username="e2e_lpr_admin", is_superuser=True)
    LprRate.objects.create(
        effective_date=dt.date(2025, 5, 20),
        one_year=Decimal("3.00"),
        five_year=Decimal("3.50"),
        source="全国银行间同业拆借中心公布",
    )
    login(admin)
    page.goto(f"{page.base_url}/lending/rates/lpr/")
    assert "3%" in page.inner_text("#lpr-current") or "3" in page.inner_text("#lpr-current")
    page.click("#lpr-new")
    page.fill("input[name=effective_date]", "2026-11-20")
    page.fill("input[name=one_year]", "2.95")
    page.fill("input[name=five_year]", "3.45")
    page.fill("input[name=source]", "测试录入")
    page.click("#save-lpr")
    page.wait_for_selector("#lpr-table")
    assert "2026-11-20" in page.inner_text("#lpr-table")
    assert "2.95" in page.inner_text("#lpr-current")
    row = LprRate.objects.get(effective_date=dt.date(2026, 11, 20))
    page.goto(f"{page.base_url}/lending/rates/lpr/{row.pk}/")
    page.fill("input[name=one_year]", "2.9")
    page.click("#save-lpr")
    page.wait_for_selector("#lpr-table")
    row.refresh_from_db()
    assert row.one_year == Decimal("2.9")
    assert AuditEntry.objects.filter(action="lpr.update", object_id=str(row.pk)).exists()
    assert page.console_errors == []
