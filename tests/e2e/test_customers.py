"""Browser: create an enterprise customer with a custom field, add a guarantor, record a
bureau authorization, pull simulated bureau data, and see all of it on the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from credo.accounts.models import FieldPermission
from credo.core.customfields.models import CustomField
from credo.customers import services
from tests.customers.conftest import make_id, make_uscc
from tests.e2e.axe import assert_accessible
from tests.factories import OrgUnitFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def manager():
    team = OrgUnitFactory(code="e2e-team", name="太原一组")
    role = RoleFactory(code="e2e_manager", name="客户经理E2E")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="customers",
            codename__in=["view_customer", "add_customer", "change_customer", "pull_external_data"],
        )
    )
    return UserFactory(username="e2e_manager", display_name="张伟", org_unit=team, roles=[role])


def test_customer_360_flow(page, login, manager):
    CustomField.objects.create(
        entity="customer", key="main_product", label="主营产品", field_type="text", required=True
    )
    guarantor = services.customer_create(
        actor=manager,
        data={
            "kind": "individual",
            "name": "王担保",
            "id_number": make_id(11),
            "phone": "13900000001",
        },
    )
    login(manager)
    page.goto(f"{page.base_url}/customers/new/?kind=enterprise")
    page.fill("input[name=name]", "太原晋阳煤机有限公司")
    page.fill("input[name=uscc]", make_uscc(42))
    page.fill("input[name=registered_capital]", "8000000")
    page.select_option("select[name=industry]", "C")
    page.select_option("select[name=region_code]", "140105")
    page.fill("input[name=cf_main_product]", "液压支架")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/customers/*/")
    assert "液压支架" in page.inner_text("#profile")
    assert "¥8,000,000.00" in page.inner_text("#profile")
    assert_accessible(page, "customer 360")

    page.click("a[href='#relations']")
    page.select_option("#relation-form select[name=direction]", "in")
    page.select_option("#relation-form select[name=kind]", "guarantor")
    # Finding the other party by its ID number is an exact sensitive lookup: it needs the
    # clear-read field permission (issue 16 #3).
    FieldPermission.objects.create(
        role=manager.roles.get(), field_key="customers.customer.id_number", can_view=True
    )
    page.fill("#relation-form input[name=other]", guarantor.id_number)
    page.click("#relation-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "王担保" in page.inner_text("#relations-table")
    assert page.locator("#relation-graph canvas").count() >= 1  # ECharts drew the graph

    page.click("a[href='#external']")
    today = dt.date.today()
    page.fill("#authorization-form input[name=granted_by]", "王法人")
    page.fill("#authorization-form input[name=valid_from]", today.isoformat())
    page.fill(
        "#authorization-form input[name=valid_until]", (today + dt.timedelta(days=30)).isoformat()
    )
    page.click("#authorization-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.click("button[name=pull][value=bureau]")
    page.wait_for_load_state("networkidle")
    assert "征信报告" in page.inner_text("#pulls-table")

    page.click("a[href='#timeline']")
    page.wait_for_selector("#timeline-items")
    text = page.inner_text("#timeline-items")
    for expected in ("建立客户档案", "担保人", "查询授权", "查询征信报告成功"):
        assert expected in text, expected
    page.goto(f"{page.base_url}/customers/")
    assert "太原晋阳煤机有限公司" in page.inner_text("main")
    assert_accessible(page, "customer list")
    assert page.console_errors == []
