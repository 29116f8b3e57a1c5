"""Browser: a user with lending.run_eod runs the close of business and sees the run DONE."""

from __future__ import annotations

import datetime as dt
import sys

import pytest
from django.contrib.auth.models import Permission
from django.urls import NoReverseMatch, clear_url_caches, include, path, reverse

from credo.core.money import Money
from credo.lending import services
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)


@pytest.fixture
def eod_urls(settings):
    """Mount lending_eod at /lending/eod/ unless the project urls already do."""
    import credo.urls as root

    try:
        reverse("lending_eod:runs")
    except NoReverseMatch:
        module = type(root)("eod_e2e_urls")
        module.urlpatterns = [  # type: ignore[attr-defined]
            path("lending/eod/", include("credo.lending.eod.urls")),
            *root.urlpatterns,
        ]
        sys.modules["eod_e2e_urls"] = module
        settings.ROOT_URLCONF = "eod_e2e_urls"
        clear_url_caches()
    yield
    clear_url_caches()


@pytest.mark.django_db(transaction=True)
def test_run_eod_from_the_page(page, login, eod_urls, org, make_loan, finance):  # noqa: F811
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    assert loan.outstanding_principal == Money("120000")
    role = RoleFactory(code="eod_e2e", name="日终", data_scope="all")
    role.permissions.add(
        Permission.objects.get(content_type__app_label="lending", codename="run_eod")
    )
    user = UserFactory(username="eod-e2e", org_unit=org["head"], roles=[role])
    login(user)
    page.goto(f"{page.base_url}/lending/eod/")
    assert page.get_by_role("heading", name="运行日终").is_visible()
    page.fill("input[name=business_date]", dt.date(2026, 2, 20).isoformat())
    page.get_by_role("button", name="运行日终").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=eod-status]").inner_text().strip() == "已完成"
    assert page.locator("[data-testid=eod-loans]").inner_text().strip() == "1"
    # the first close on a database catches the loan up from its start (issue 18): it was
    # already overdue at 02-19, so nothing *becomes* overdue on 02-20, and DPD counts from 02-15
    assert page.locator("[data-testid=eod-became-overdue]").inner_text().strip() == "0"
    loan.refresh_from_db()
    assert (loan.status, loan.dpd) == ("overdue", 5)
    page.goto(f"{page.base_url}/lending/eod/")
    assert page.locator("table").get_by_text("2026-02-20").is_visible()
    assert page.console_errors == []
