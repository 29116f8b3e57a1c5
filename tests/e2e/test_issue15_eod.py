"""Browser, issue 15 #3: the EOD page refuses a business date before the last completed close
with a Chinese message (nothing runs, no snapshot is rewritten); the same date again is fine."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from credo.lending import eod, services
from credo.lending.models import EodRun
from credo.reports.models import PortfolioSnapshot
from tests.e2e.test_eod import eod_urls  # noqa: F401 (fixture)
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import (  # noqa: F401 (fixtures)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_eod_page_refuses_a_date_before_the_last_close(
    page,
    login,
    eod_urls,  # noqa: F811
    org,
    make_loan,  # noqa: F811
    finance,  # noqa: F811
):
    services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    eod.run_eod(dt.date(2026, 2, 20))  # the first close: 2026-02-20 only
    role = RoleFactory(code="eod_i15", name="日终", data_scope="all")
    role.permissions.add(
        Permission.objects.get(content_type__app_label="lending", codename="run_eod")
    )
    user = UserFactory(username="eod-i15", org_unit=org["head"], roles=[role])
    login(user)
    page.goto(f"{page.base_url}/lending/eod/")
    assert "最近一次完成的日终：2026-02-20" in page.inner_text("#eod-last-done")
    page.fill("input[name=business_date]", "2026-02-16")
    page.get_by_role("button", name="运行日终").click()
    page.wait_for_load_state("networkidle")
    error = page.locator("#eod-form .invalid-feedback").inner_text()
    assert "业务日期 2026-02-16 早于最近一次完成的日终 2026-02-20" in error
    assert "按起息日重放" in error
    assert not EodRun.objects.filter(business_date=dt.date(2026, 2, 16)).exists()
    assert not PortfolioSnapshot.objects.filter(business_date=dt.date(2026, 2, 16)).exists()
    # the last completed date again: accepted, nothing re-run
    page.fill("input[name=business_date]", "2026-02-20")
    page.get_by_role("button", name="运行日终").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=eod-status]").inner_text().strip() == "已完成"
    assert EodRun.objects.count() == 1
    assert page.console_errors == []
