"""The customer 360 page: its query count (pinned), no query per row, what it shows of related
parties, and the add dialogs rendered as Django's form templates render them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.forms.renderers import get_default_renderer
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credo.accounts.models import DataScope, FieldPermission
from credo.core.customfields.models import CustomField
from credo.customers import selectors, services
from credo.customers.models import (
    Authorization,
    Contact,
    Customer,
    ExternalProvider,
    ExternalPull,
    Relation,
)
from tests.customers.conftest import make_id, make_uscc
from tests.factories import UserFactory, role_with_perms

pytestmark = pytest.mark.django_db

# Everything the page reads for a customer with contacts, relations (one party outside the
# user's scope), authorizations, bureau pulls and a custom field, for a user who may see loans,
# collateral, inspections and records — on a second request, as the test client counts it:
# session, user, roles, permissions and 2FA devices (6), the customer (1), its relations and
# their parties with the user's scope (2), field permissions (1), contacts (1), timeline counts
# (1), custom fields (3), the lending figures and loans (3: no loans), collateral (2),
# inspections (1), unread messages (1), authorizations (1), pulls (1), records (1). It was 27
# here, and one more for each further authorization. Raise it only knowingly.
MAX_QUERIES = 25

PAGE_PERMS = (
    "customers.view_customer",
    "customers.change_customer",
    "customers.pull_external_data",
    "lending.view_loan",
    "collateral.view_collateral",
    "fieldwork.view_inspection",
    "origination.add_application",
    "records.view_customrecord",
)


@pytest.fixture
def am(org):
    role = role_with_perms("am360", DataScope.OWN, *PAGE_PERMS)
    return UserFactory(
        username="am360", display_name="张经理", org_unit=org["team_a"], roles=[role]
    )


@pytest.fixture
def stranger(org):
    role = role_with_perms("am360c", DataScope.OWN, "customers.view_customer")
    return UserFactory(
        username="am360c", display_name="王经理", org_unit=org["team_c"], roles=[role]
    )


def _person(owner, n, name):
    return services.customer_create(
        actor=owner,
        data={
            "kind": "individual",
            "name": name,
            "id_number": make_id(n),
            "phone": f"1383511{n:04d}",
            "region_code": "140105",
        },
    )


@pytest.fixture
def company(am, stranger):
    CustomField.objects.create(
        entity="customer", key="product", label="主营产品", field_type="text"
    )
    company = services.customer_create(
        actor=am,
        data={
            "kind": "enterprise",
            "name": "太原晋阳商贸有限公司",
            "uscc": make_uscc(1),
            "region_code": "140105",
            "phone": "0351-7654321",
            "cf_product": "煤炭<机械>",
        },
    )
    mine = _person(am, 1, "李小明")
    theirs = _person(stranger, 2, "外组客户")
    services.relation_add(
        from_customer=mine, to_customer=company, kind="shareholder", share_pct="60", actor=am
    )
    Relation.objects.create(from_customer=company, to_customer=theirs, kind="affiliate")
    services.risk_flag_set(customer=theirs, flag="judgment_debtor", on=True, actor=stranger)
    _rows(company, am, 1)
    return company


def _rows(company, user, n, start=0):
    """``n`` more contacts, authorizations and pulls."""
    provider, _ = ExternalProvider.objects.get_or_create(
        name="模拟征信", defaults={"kind": "bureau", "engine": "simulated", "auth_value": "k"}
    )
    today = dt.date(2026, 1, 5)
    for i in range(start, start + n):
        Contact.objects.create(customer=company, name=f"联系人{i}", phone="13912345678")
        auth = Authorization.objects.create(
            customer=company,
            scope="bureau",
            granted_by="王建国",
            valid_from=today,
            valid_until=today + dt.timedelta(days=30 + i),
            recorded_by=UserFactory(display_name=f"登记人{i}"),
        )
        ExternalPull.objects.create(
            customer=company,
            provider=provider,
            kind="bureau",
            authorization=auth,
            requested_by=UserFactory(display_name=f"查询人{i}"),
            status="ok",
            raw_payload="{}" * 1000,
        )


def _get(client, customer):
    with CaptureQueriesContext(connection) as queries:
        resp = client.get(reverse("customers:detail", args=[customer.pk]))
    assert resp.status_code == 200
    return resp.content.decode(), len(queries.captured_queries)


def test_query_count_is_pinned_and_does_not_grow_with_the_rows(client, am, company):
    client.force_login(am)
    first, _n = _get(client, company)  # the first request fills the permission cache
    assert "模拟征信" in first and "联系人0" in first
    _html, count = _get(client, company)
    assert count <= MAX_QUERIES
    Relation.objects.create(
        from_customer=_person(am, 3, "赵六"), to_customer=company, kind="guarantor"
    )
    _rows(company, am, 4, start=1)
    html, more = _get(client, company)
    assert more == count, "a query per row (relation, contact, authorization or pull)"
    for i in range(5):
        assert f"登记人{i}" in html and f"查询人{i}" in html


def test_related_parties_show_only_what_the_user_may_open(client, am, company):
    client.force_login(am)
    html, _n = _get(client, company)
    table = html[
        html.index('id="relations-table"') : html.index("</table>", html.index("relations-table"))
    ]
    assert "李小明" in table and "（无权查看）" in table and "外组客户" not in table
    assert "对方是本客户的股东" in table and "本客户是对方的关联企业" in table
    graph = html[html.index('id="relation-graph-data"') :]
    assert "外组客户" not in graph[: graph.index("</script>")]
    # the related parties' risk flags (A4) are shown — relation and flag — but the name of a
    # party outside the user's scope is not, anywhere on the page
    assert "关联方 （无权查看）（关联企业）：被执行人" in html
    assert "外组客户" not in html


def test_related_parties_read_few_columns_and_scope_in_one_query(am, stranger, company):
    selectors.related_parties(Customer.objects.get(pk=company.pk), am)  # the user's scope
    company = Customer.objects.get(pk=company.pk)
    with CaptureQueriesContext(connection) as queries:
        parties = selectors.related_parties(company, am)
    assert len(queries.captured_queries) == 2  # the relations, the other parties + scope
    by_name = {p.other.name: p for p in parties}
    assert by_name["李小明"].visible and by_name["李小明"].direction == "in"
    assert not by_name["外组客户"].visible and by_name["外组客户"].direction == "out"
    assert by_name["外组客户"].other.risk_flags == ["judgment_debtor"]
    # the other parties' encrypted identifiers are not even read
    assert {"id_number", "phone", "bank_account"} <= by_name["李小明"].other.get_deferred_fields()
    # this customer's side of each relation is the customer object itself
    assert all(
        p.relation.from_customer is company or p.relation.to_customer is company for p in parties
    )
    # the same rows for the flags and the graph, without another query
    with CaptureQueriesContext(connection) as queries:
        flags = selectors.related_risk_flags(company, parties)
        graph = selectors.relation_graph(company, am, parties)
    assert not queries.captured_queries
    # the flag of a party outside the scope is shown, its name is not (as in the table)
    assert [f["name"] for f in flags] == ["（无权查看）"]
    assert [f["flag"] for f in flags] == ["judgment_debtor"]
    assert {n["name"] for n in graph["nodes"]} == {company.name, "李小明", "（无权查看）"}
    # for the stranger it is the other way round; without a user nobody is visible
    assert {p.other.name for p in selectors.related_parties(company, stranger) if p.visible} == {
        "外组客户"
    }
    assert not any(p.visible for p in selectors.related_parties(company, None))


def test_related_parties_for_scope_all_and_inactive_users(org, am, company):
    everything = UserFactory(
        username="all360",
        org_unit=org["head"],
        roles=[role_with_perms("all360", DataScope.ALL, "customers.view_customer")],
    )
    selectors.related_parties(Customer.objects.get(pk=company.pk), everything)
    company = Customer.objects.get(pk=company.pk)
    with CaptureQueriesContext(connection) as queries:
        parties = selectors.related_parties(company, everything)
    assert len(queries.captured_queries) == 2 and all(p.visible for p in parties)
    am.is_active = False
    assert not any(p.visible for p in selectors.related_parties(company, am))


def test_customer_without_relations_reads_them_in_one_query(am):
    alone = _person(am, 5, "独立客户")
    with CaptureQueriesContext(connection) as queries:
        assert selectors.related_parties(alone, am) == []
    assert len(queries.captured_queries) == 1


def test_panels_read_the_shown_columns(company):
    auths = list(selectors.authorizations_panel(company))
    pulls = list(selectors.pulls_panel(company))
    assert auths[0].get_deferred_fields() == {"document", "recorded_at", "revoked_at"}
    assert {"raw_payload", "parsed"} <= pulls[0].get_deferred_fields()
    assert "auth_value" in pulls[0].provider.get_deferred_fields()
    assert "password" in pulls[0].requested_by.get_deferred_fields()


def test_dialogs_render_exactly_as_with_the_form_templates(client, am, company, monkeypatch):
    """The page's HTML with the fast renderer is byte for byte the HTML with Django's."""
    from credo.customers import views

    def page():
        html, _n = _get(client, company)
        return re.sub(r'(csrfmiddlewaretoken" value=|csrf-token" content=)"[^"]+"', r"\1", html)

    client.force_login(am)
    fast = page()
    monkeypatch.setattr(views, "FAST_FORM_RENDERER", get_default_renderer())
    assert page() == fast
    for marker in ('id="relation-form"', 'id="authorization-form"', 'name="is_primary"'):
        assert marker in fast


def test_sensitive_values_stay_masked_and_the_reveal_button_follows_the_field_permission(
    client, am, company
):
    client.force_login(am)
    html, _n = _get(client, company)
    reveal = reverse("customers:reveal", args=[company.pk, "phone"])
    assert "0351-7654321" not in html and reveal not in html
    FieldPermission.objects.create(
        role=am.roles.get(), field_key="customers.customer.phone", can_view=True
    )
    html, _n = _get(client, company)
    assert "0351-7654321" not in html  # still masked: the clear value only on reveal (audited)
    assert reveal in html
