"""Browser: a visitor submits the public form; the rule routes the lead to the Taiyuan team's
manager, who sees it assigned, logs a follow-up, drags it on the board and converts it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.utils import timezone

from credo.customers.models import Customer
from credo.leads.models import Lead
from tests.customers.conftest import make_id

pytestmark = pytest.mark.django_db(transaction=True)


def _grant(role):
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="leads",
            codename__in=["view_lead", "add_lead", "change_lead", "convert_lead"],
        ),
        *Permission.objects.filter(
            content_type__app_label="customers", codename__in=["view_customer", "add_customer"]
        ),
    )


def test_public_form_to_customer(page, login, owner, outsider, manager_role):
    cache.clear()
    _grant(manager_role)
    page.goto(f"{page.base_url}/forms/leads/?campaign=官网")
    page.fill("#id_name", "刘女士")
    page.fill("#id_phone", "13912340000")
    page.fill("#id_region_code", "140105")  # 太原 → 太原一组 (owner's team)
    page.select_option("#id_business_type", "consumer")
    page.fill("#id_requested_amount", "200000")
    page.click("#public-lead-form button[type=submit]")
    page.wait_for_selector("#public-thanks")
    assert page.console_errors == []
    lead = Lead.objects.get()
    assert lead.owner == owner and lead.source == "web_form"

    login(owner)
    page.goto(f"{page.base_url}/leads/?mine=1")
    page.click("#lead-table a:has-text('刘女士')")
    page.wait_for_selector("#lead-owner")
    assert "张经理" in page.inner_text("#lead-owner")
    assert "太原 → 太原一组" in page.inner_text("#assignment")

    page.select_option("#id_kind", "call")
    page.fill("#id_outcome", "有贷款意向")
    page.fill("#id_next_step", "上门收集资料")
    page.fill("#id_next_date", (timezone.localdate() + dt.timedelta(days=2)).isoformat())
    page.click("#followup-form button[type=submit]")
    page.wait_for_selector("#followup-log:has-text('有贷款意向')")
    assert page.inner_text("#lead-stage") == "已联系"

    page.goto(f"{page.base_url}/leads/board/")
    card = page.locator(f".lead-card[data-id='{lead.pk}']")
    card.drag_to(page.locator(".lead-column[data-stage='qualified'] .lead-dropzone"))
    page.wait_for_selector(f".lead-column[data-stage='qualified'] .lead-card[data-id='{lead.pk}']")
    lead.refresh_from_db()
    assert lead.stage == "qualified"

    page.goto(f"{page.base_url}/leads/{lead.pk}/")
    page.select_option("#convert-form select[name=kind]", "individual")
    page.fill("#convert-form input[name=id_number]", make_id(11))
    page.click("#convert-form button[type=submit]")
    page.wait_for_url("**/customers/**")
    customer = Customer.objects.get()
    assert customer.name == "刘女士" and customer.owner == owner
    lead.refresh_from_db()
    assert lead.stage == "converted" and lead.customer == customer
    assert customer.events.filter(kind="follow_up").count() == 1
    assert page.console_errors == []
