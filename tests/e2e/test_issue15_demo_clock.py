"""Browser: after `credo demo advance` every page says the demo runs on a moved business date
(issue 15, item 15), so an evaluator never mistakes it for the calendar date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from credo.core import clock
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_top_bar_shows_demo_business_date(page, login, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    admin = UserFactory(username="e2e_admin_clock", is_superuser=True)
    login(admin)
    assert page.locator("#demo-business-date").count() == 0
    call_command("demo", "advance", "--days", "2")
    page.goto(f"{page.base_url}/lending/eod/")
    badge = page.inner_text("#demo-business-date")
    assert clock.today().isoformat() in badge and "前移 2 天" in badge
    # The close of business page proposes the day before the business date.
    expected = (clock.today() - dt.timedelta(days=1)).isoformat()
    assert page.input_value("input[name=business_date]") == expected
