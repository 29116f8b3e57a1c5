import datetime as dt

import pytest
from django.urls import reverse

from credo.accounts.models import FieldPermission
from credo.core.audit.models import AuditEntry
from credo.core.customfields.models import CustomField
from credo.customers import services
from credo.customers.models import Customer
from tests.customers.conftest import make_id, make_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, owner, customer_perms):
    client.force_login(owner)
    return client


def test_create_enterprise_through_form_with_custom_field(owner_client, owner):
    CustomField.objects.create(
        entity="customer", key="main_product", label="主营产品", field_type="text", required=True
    )
    url = reverse("customers:create") + "?kind=enterprise"
    page = owner_client.get(url)
    assert "主营产品" in page.content.decode()
    bad = owner_client.post(url, {"kind": "enterprise", "name": "晋商", "uscc": "123"})
    assert "18 位" in bad.content.decode() and "这个字段是必填项" in bad.content.decode()
    assert not Customer.objects.exists()
    ok = owner_client.post(
        url,
        {
            "kind": "enterprise",
            "name": "太原晋商贸易有限公司",
            "uscc": make_uscc(5),
            "registered_capital": "1,000,000",
            "industry": "F",
            "region_code": "140105",
            "cf_main_product": "煤炭机械",
        },
    )
    customer = Customer.objects.get()
    assert ok.status_code == 302 and ok["Location"] == reverse(
        "customers:detail", args=[customer.pk]
    )
    assert customer.custom == {"main_product": "煤炭机械"}
    detail = owner_client.get(ok["Location"]).content.decode()
    assert "煤炭机械" in detail and "¥1,000,000.00" in detail


def test_duplicate_shows_link_to_existing(owner_client, owner, enterprise_data):
    existing = services.customer_create(actor=owner, data=enterprise_data)
    resp = owner_client.post(reverse("customers:create"), {**enterprise_data})
    body = resp.content.decode()
    assert reverse("customers:detail", args=[existing.pk]) in body and "请勿重复建档" in body
    assert Customer.objects.count() == 1


def test_outsider_gets_404_and_audit(client, owner, outsider, customer_perms, enterprise_data):
    c = services.customer_create(actor=owner, data=enterprise_data)
    client.force_login(outsider)
    assert client.get(reverse("customers:detail", args=[c.pk])).status_code == 404
    assert client.get(reverse("customers:edit", args=[c.pk])).status_code == 404
    assert AuditEntry.objects.filter(action="customer.access_denied").count() == 2
    assert c.name not in client.get(reverse("customers:list")).content.decode()


def test_sensitive_values_masked_and_reveal_needs_permission(
    owner_client, owner, manager_role, individual_data
):
    c = services.customer_create(actor=owner, data=individual_data)
    detail = owner_client.get(reverse("customers:detail", args=[c.pk])).content.decode()
    assert individual_data["id_number"] not in detail and "138****2345" in detail
    listing = owner_client.get(reverse("customers:list")).content.decode()
    assert individual_data["id_number"] not in listing
    reveal = reverse("customers:reveal", args=[c.pk, "id_number"])
    assert owner_client.post(reveal).status_code == 403
    FieldPermission.objects.create(
        role=manager_role, field_key="customers.customer.id_number", can_view=True
    )
    resp = owner_client.post(reveal)
    assert individual_data["id_number"] in resp.content.decode()
    assert AuditEntry.objects.filter(action="sensitive.read", actor_id=owner.pk).count() == 1


def test_edit_keeps_sensitive_values_when_left_blank(
    owner_client, owner, manager_role, individual_data
):
    FieldPermission.objects.create(
        role=manager_role, field_key="customers.customer.phone", can_view=True, can_edit=True
    )
    c = services.customer_create(actor=owner, data=individual_data)
    resp = owner_client.post(
        reverse("customers:edit", args=[c.pk]),
        {
            "name": "李小明",
            "id_number": "",
            "phone": "",
            "address": "迎泽大街 8 号",
            "region_code": "140106",
            "version": 1,
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    c.refresh_from_db()
    assert c.phone == "13835112345" and c.id_number == individual_data["id_number"]
    assert c.address == "迎泽大街 8 号" and c.version == 2


def test_relation_authorization_pull_and_timeline(
    owner_client, owner, manager_role, enterprise_data, individual_data
):
    # Finding the other party by ID number needs the clear-read field permission.
    FieldPermission.objects.create(
        role=manager_role, field_key="customers.customer.id_number", can_view=True
    )
    company = services.customer_create(actor=owner, data=enterprise_data)
    services.customer_create(actor=owner, data=individual_data)
    resp = owner_client.post(
        reverse("customers:relation_add", args=[company.pk]),
        {
            "kind": "guarantor",
            "direction": "in",
            "other": individual_data["id_number"],
        },
    )
    assert resp.status_code == 302
    assert company.relations_in.get().kind == "guarantor"
    pull_url = reverse("customers:pull", args=[company.pk, "bureau"])
    owner_client.post(pull_url)
    assert company.pulls.count() == 0  # refused without authorization
    today = dt.date.today()
    owner_client.post(
        reverse("customers:authorization_add", args=[company.pk]),
        {
            "scope": "bureau",
            "granted_by": "王建国",
            "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=30)).isoformat(),
        },
    )
    owner_client.post(pull_url)
    assert company.pulls.get().status == "ok"
    timeline = owner_client.get(reverse("customers:timeline", args=[company.pk])).content.decode()
    for text in ("建立客户档案", "担保人", "授权", "查询征信报告成功"):
        assert text in timeline, text
    only = owner_client.get(reverse("customers:timeline", args=[company.pk]) + "?kind=relation")
    assert "建立客户档案" not in only.content.decode()


def test_list_search_filters_and_pagination(owner_client, owner, manager_role, individual_data):
    FieldPermission.objects.create(
        role=manager_role, field_key="customers.customer.id_number", can_view=True
    )
    for i in range(25):
        services.customer_create(
            actor=owner,
            data={
                **individual_data,
                "name": f"客户{i:02d}",
                "id_number": make_id(100 + i),
                "region_code": "140213" if i % 2 else "140105",
            },
        )
    page1 = owner_client.get(reverse("customers:list")).content.decode()
    assert "共 25 条" in page1 and "1 / 2" in page1
    datong = owner_client.get(reverse("customers:list") + "?region=140200").content.decode()
    assert "共 12 条" in datong
    by_id = owner_client.get(reverse("customers:list") + f"?q={make_id(103)}").content.decode()
    assert "客户03" in by_id and "共 1 条" in by_id


def test_global_search_finds_customers_in_scope_only(
    client, owner, outsider, customer_perms, individual_data
):
    FieldPermission.objects.create(
        role=customer_perms, field_key="customers.customer.id_number", can_view=True
    )
    c = services.customer_create(actor=owner, data=individual_data)
    client.force_login(owner)
    body = client.get(reverse("core:search") + "?q=" + individual_data["id_number"]).content
    body = body.decode()
    assert reverse("customers:detail", args=[c.pk]) in body
    masked = individual_data["id_number"][:6] + "********" + individual_data["id_number"][-4:]
    assert masked in body  # the hit shows the identifier masked
    client.force_login(outsider)
    body = client.get(reverse("core:search") + "?q=李小明").content.decode()
    assert reverse("customers:detail", args=[c.pk]) not in body


def test_team_lead_sees_team_book_and_filters_by_owner(
    client, owner, colleague, org, individual_data, customer_perms
):
    from credo.accounts.models import DataScope
    from tests.factories import RoleFactory, UserFactory

    lead_role = RoleFactory(code="lead_t", name="主管T", data_scope=DataScope.TEAM)
    lead_role.permissions.set(customer_perms.permissions.all())
    lead = UserFactory(username="lead", org_unit=org["team_a"], roles=[lead_role])
    mine = services.customer_create(actor=owner, data=individual_data)
    theirs = services.customer_create(
        actor=colleague, data={**individual_data, "name": "同事客户", "id_number": make_id(9)}
    )
    client.force_login(lead)
    page = client.get(reverse("customers:list")).content.decode()
    assert mine.name in page and theirs.name in page and 'name="owner"' in page
    only = client.get(reverse("customers:list") + f"?owner={colleague.pk}").content.decode()
    assert theirs.name in only and mine.name not in only
