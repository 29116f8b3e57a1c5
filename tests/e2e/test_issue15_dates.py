"""Browser: a date stored on a customer survives opening and saving the edit form unchanged in
the Chinese UI, and the close-of-business page shows its default date (issue 15, item 1)."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.core import clock
from credo.customers import services
from credo.customers.models import Customer
from tests.customers.conftest import make_uscc
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_edit_customer_unchanged_keeps_founding_date(page, login):
    admin = UserFactory(username="e2e_admin_dates", is_superuser=True)
    customer = services.customer_create(
        actor=admin,
        data={
            "kind": "enterprise",
            "name": "太原晋阳机械有限公司",
            "uscc": make_uscc(77),
            "founded_on": dt.date(2015, 6, 18),
        },
    )
    login(admin)
    page.goto(f"{page.base_url}/customers/{customer.pk}/edit/")
    assert page.input_value("input[name=founded_on]") == "2015-06-18"
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"**/customers/{customer.pk}/")
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.founded_on == dt.date(2015, 6, 18)


def test_close_of_business_page_shows_default_date(page, login):
    admin = UserFactory(username="e2e_admin_eod", is_superuser=True)
    login(admin)
    page.goto(f"{page.base_url}/lending/eod/")
    expected = (clock.today() - dt.timedelta(days=1)).isoformat()
    assert page.input_value("input[name=business_date]") == expected
