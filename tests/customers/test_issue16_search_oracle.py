"""Issue 16 #3: a masked phone / ID number must not be recoverable by exact-match search.

An exact (blind-index) lookup of a sensitive value is made only for users whose field permission
shows that field in clear (audited as ``sensitive.lookup``, value masked), or within the optional
per-user hourly budget ``CREDO_SENSITIVE_LOOKUPS_PER_HOUR`` (default 0 = none). Otherwise the
value is searched as text against the name — the page, the API, exports, relation lookup and the
global search all give no answer by the sensitive value.
"""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from credo.accounts.fieldperms import clear_cache
from credo.accounts.models import FieldPermission
from credo.api.services import token_create
from credo.core.audit.models import AuditEntry
from credo.customers import selectors, services
from credo.customers.models import Customer

pytestmark = pytest.mark.django_db
API = "/api/v1/customers"
PHONE = "15412347636"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def victim(owner, individual_data):
    return services.customer_create(actor=owner, data={**individual_data, "phone": PHONE})


@pytest.fixture
def api(client, owner, customer_perms):
    _token, plain = token_create(
        user=owner, name="t", scopes=["read"], expires_in_days=30, actor=owner
    )
    return lambda path: client.get(path, HTTP_AUTHORIZATION=f"Bearer {plain}")


def _grant(role, field):
    FieldPermission.objects.create(
        role=role, field_key=f"customers.customer.{field}", can_view=True
    )


def _no_clear_value_in_audit(*values):
    blob = json.dumps(list(AuditEntry.objects.values("metadata", "changes", "object_repr")))
    for value in values:
        assert value not in blob


def test_api_phone_probe_gives_no_oracle_without_permission(api, victim, individual_data):
    body = api(f"{API}?q={PHONE}").json()
    assert body["count"] == 0  # the true phone…
    assert api(f"{API}?q=15412340000").json()["count"] == 0  # …looks like any other
    assert api(f"{API}?q={individual_data['id_number']}").json()["count"] == 0
    assert api(f"{API}?q=李小明").json()["count"] == 1  # by name as before
    assert not AuditEntry.objects.filter(action="sensitive.lookup").exists()


def test_api_exact_search_with_field_permission_is_audited_masked(
    api, victim, customer_perms, individual_data
):
    _grant(customer_perms, "phone")
    _grant(customer_perms, "id_number")
    body = api(f"{API}?q={PHONE}").json()
    assert body["count"] == 1 and body["items"][0]["id"] == victim.pk
    assert api(f"{API}?q={individual_data['id_number']}").json()["count"] == 1
    entries = list(AuditEntry.objects.filter(action="sensitive.lookup").order_by("id"))
    assert [e.metadata["field"] for e in entries] == [
        "customers.customer.phone",
        "customers.customer.id_number",
    ]
    assert entries[0].metadata["value"] == "154****7636"
    assert entries[0].metadata["purpose"] == "api"
    assert entries[0].metadata["mode"] == "field_permission"
    _no_clear_value_in_audit(PHONE, individual_data["id_number"])


def test_list_page_and_export_search_by_phone_need_permission(client, owner, victim):
    from django.contrib.auth.models import Permission

    owner.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="customers",
            codename__in=["view_customer", "export_customers"],
        )
    )
    client.force_login(owner)
    page = client.get(reverse("customers:list") + f"?q={PHONE}").content.decode()
    assert reverse("customers:detail", args=[victim.pk]) not in page
    export = client.get(reverse("customers:export") + f"?q={PHONE}")
    assert AuditEntry.objects.get(action="customer.export").metadata["count"] == 0
    assert export.status_code == 200
    role = owner.roles.get()
    _grant(role, "phone")
    page = client.get(reverse("customers:list") + f"?q={PHONE}").content.decode()
    assert "共 1 条" in page and victim.name in page
    assert AuditEntry.objects.get(action="sensitive.lookup").metadata["purpose"] == "list"


def test_global_search_by_phone_needs_permission(client, owner, customer_perms, victim):
    client.force_login(owner)
    url = reverse("core:search") + f"?q={PHONE}"
    detail = reverse("customers:detail", args=[victim.pk])
    assert detail not in client.get(url).content.decode()
    _grant(customer_perms, "phone")
    assert detail in client.get(url).content.decode()
    entry = AuditEntry.objects.get(action="sensitive.lookup")
    assert entry.metadata["purpose"] == "global_search"


def test_global_search_lead_phone_needs_permission(owner, manager_role):
    from credo.leads import services as lead_services
    from credo.leads.selectors import search_leads

    lead = lead_services.lead_create(
        actor=owner,
        owner=owner,
        data={"name": "线索甲", "phone": PHONE, "source": "online", "region_code": "140105"},
    )
    assert search_leads(owner, PHONE, 10) == []
    FieldPermission.objects.create(role=manager_role, field_key="leads.lead.phone", can_view=True)
    clear_cache(owner)
    assert [h.title for h in search_leads(owner, PHONE, 10)] == [lead.name]


def test_relation_lookup_by_id_number_needs_permission(
    client, owner, customer_perms, victim, enterprise_data, individual_data
):
    company = services.customer_create(actor=owner, data=enterprise_data)
    client.force_login(owner)
    url = reverse("customers:relation_add", args=[company.pk])
    form = {"kind": "guarantor", "direction": "in", "other": individual_data["id_number"]}
    client.post(url, form)
    assert not company.relations_in.exists()  # "not found": same answer as for any number
    _grant(customer_perms, "id_number")
    client.post(url, form)
    assert company.relations_in.get().from_customer == victim


def test_optional_budget_is_rate_limited_and_audited(settings, owner, victim):
    settings.CREDO_SENSITIVE_LOOKUPS_PER_HOUR = 2
    found = [
        list(selectors.customer_list(owner, {"q": q})) for q in (PHONE, "15412340000", PHONE, PHONE)
    ]
    assert found == [[victim], [], [], []]  # third and later: over the budget
    lookups = AuditEntry.objects.filter(action="sensitive.lookup")
    assert lookups.count() == 2
    assert {e.metadata["mode"] for e in lookups} == {"rate_limited"}
    assert sorted(e.metadata["value"] for e in lookups) == ["154****0000", "154****7636"]
    throttled = AuditEntry.objects.filter(action="sensitive.lookup_throttled")
    assert throttled.count() == 1  # once per window, not once per probe
    _no_clear_value_in_audit(PHONE, "15412340000")


def test_name_and_uscc_search_unaffected(owner, enterprise_data, victim):
    from credo.core.validators import uscc_check_char

    uscc = "91140105MA0L12345" + uscc_check_char("91140105MA0L12345")
    company = services.customer_create(actor=owner, data={**enterprise_data, "uscc": uscc})
    assert list(selectors.customer_list(owner, {"q": uscc})) == [company]
    assert list(selectors.customer_list(owner, {"q": "小明"})) == [victim]
    assert Customer.objects.count() == 2
    assert not AuditEntry.objects.filter(action__startswith="sensitive.lookup").exists()
