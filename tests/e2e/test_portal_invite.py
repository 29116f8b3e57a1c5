"""Browser: staff sends an online-application link from the customer page; the customer opens it
on a phone, fills product/amount/term/purpose and lands on the upload page of the new
application."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from credo.core.money import Money
from credo.customers import services as customer_services
from credo.lending.models import Product, ProductVersion
from credo.origination.models import Application, PortalLink
from tests.factories import UserFactory
from tests.factories import png_bytes as _png
from tests.factories import role_with_perms as _role

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def world(org, settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "docs")
    am = _role(
        "account_manager_invite",
        "own",
        "origination.view_application",
        "origination.add_application",
        "origination.change_application",
        "origination.manage_portal_links",
        "customers.view_customer",
    )
    owner = UserFactory(username="am2", display_name="张经理", org_unit=org["team_a"], roles=[am])
    product = Product.objects.create(code="xfd", name="设备贷")
    pv = ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("2000000"),
        min_months=6,
        max_months=36,
        min_rate=Decimal("6"),
        max_rate=Decimal("15"),
        method="equal_installment",
        allocation_order=["penalty", "fee", "interest", "principal"],
        required_documents=["营业执照"],
    )
    from credo.core.validators import uscc_check_char

    body = "91140100MA0000888"
    customer = customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "太原在线申请有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140105",
            "registered_capital": "3000000",
            "industry": "C",
            "founded_on": dt.date(2012, 5, 1),
        },
    )
    return {"owner": owner, "customer": customer, "pv": pv}


def test_customer_starts_application_on_phone(page, login, world, _browser):
    customer = world["customer"]
    login(world["owner"])
    page.goto(f"{page.base_url}/customers/{customer.pk}/")
    page.click("#create-invite")
    invite_url = page.input_value("#invite-url")
    assert "/portal/invite/" in invite_url
    assert page.console_errors == []

    phone = _browser.new_context(
        locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    phone.set_default_timeout(10_000)
    mobile = phone.new_page()
    errors: list[str] = []
    mobile.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    try:
        mobile.goto(invite_url)
        assert "太原在线申请有限公司" in mobile.inner_text("#invite-summary")
        # mobile friendly: nothing wider than the screen, full-width submit button
        width = mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        box = mobile.locator("#invite-submit").bounding_box()
        assert box is not None and box["width"] > PHONE["width"] * 0.6

        # a term outside the product is refused on the page, nothing created
        mobile.select_option("select[name=product_version]", str(world["pv"].pk))
        mobile.fill("input[name=amount]", "300000")
        mobile.fill("input[name=months]", "60")
        mobile.fill("input[name=purpose]", "购买数控机床")
        mobile.fill("input[name=guarantor]", "王五")
        mobile.click("#invite-submit")
        mobile.wait_for_selector("#invite-error")
        assert "期限" in mobile.inner_text("#invite-error")
        assert Application.objects.count() == 0

        mobile.fill("input[name=months]", "24")
        mobile.click("#invite-submit")
        mobile.wait_for_selector("#portal-checklist")
        app = Application.objects.get()
        assert app.customer == customer and app.owner == world["owner"]
        assert app.created_by is None and app.months == 24
        assert app.number in mobile.inner_text("#portal-summary")
        assert "/portal/invite/" not in mobile.url and "/portal/" in mobile.url

        # the normal upload flow continues on the phone
        row = mobile.locator("#portal-checklist [data-item='营业执照']")
        row.locator("input[type=file]").set_input_files(
            {"name": "执照.png", "mimeType": "image/png", "buffer": _png()}
        )
        row.locator("button[type=submit]").click()
        mobile.wait_for_selector("#portal-progress-label:has-text('100%')")
        assert mobile.locator("#portal-submit").count() == 1
        assert errors == []

        # the invitation is used up
        response = mobile.goto(invite_url)
        assert response.status == 410 and "已使用" in mobile.inner_text("#portal-gone")
        assert PortalLink.objects.filter(purpose="invite", used_at__isnull=False).count() == 1
    finally:
        phone.close()
