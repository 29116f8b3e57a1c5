"""Browser (issue 20): the 还款计划试算 page shows the 年化利率 with fees; publishing a product
version whose worst-case 年化利率 exceeds its cap is refused with a readable message."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from credo.core.money import Money
from credo.lending.models import Product, ProductVersion
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_calculator_shows_the_apr_with_fees(page, login):
    user = UserFactory(username="apr_calc", display_name="试算员")
    login(user)
    page.goto(f"{page.base_url}/lending/calculator/")
    page.fill("input[name=principal]", "120000")
    page.fill("input[name=annual_rate]", "10")
    page.fill("input[name=months]", "3")
    page.select_option("select[name=method]", "interest_only")
    page.fill("input[name=start]", "2026-01-15")
    page.fill("input[name=upfront_fee]", "1200")
    page.click("#calculator-form button[type=submit]")
    page.wait_for_selector("#apr-card")
    assert page.inner_text("#apr") == "14.09%"  # the example: 118,800 received
    assert page.inner_text("#apr-effective") == "15.04%"
    assert "年化利率" in page.inner_text("#apr-card")
    assert page.locator("#schedule-table tbody tr").count() == 3
    assert page.console_errors == []


def test_publish_over_the_cap_is_refused(page, login, org):
    role = RoleFactory(code="apr_pa", name="apr_pa", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(content_type__app_label="lending", codename="manage_products")
    )
    admin = UserFactory(username="apr_admin", org_unit=org["head"], roles=[role])
    product = Product.objects.create(code="dx", name="短期消费贷")
    version = ProductVersion.objects.create(
        product=product,
        number=1,
        status="draft",
        min_amount=Money("10000"),
        max_amount=Money("100000"),
        min_months=3,
        max_months=12,
        min_rate=Decimal("10"),
        max_rate=Decimal("18"),
        method="equal_installment",
        upfront_fee_rate=Decimal("2"),
        penalty_multiplier=Decimal("1.5"),
        allocation_order=["penalty", "fee", "interest", "principal"],
    )
    login(admin)
    page.goto(f"{page.base_url}/lending/versions/{version.pk}/")
    page.wait_for_selector("#product-apr")
    assert "%" in page.inner_text("#product-apr-range")
    assert page.is_visible("#product-apr-over")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#publish-version")
    page.wait_for_selector("text=超过产品规定的上限 24.00%")
    assert page.inner_text("#version-status") == "草稿"
    version.refresh_from_db()
    assert version.status == "draft"
    assert page.console_errors == []
