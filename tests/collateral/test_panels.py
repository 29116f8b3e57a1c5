"""The collateral panels read each thing once: the loan's application as the page read it, the
scope check against the customer row the page read, no context processors for a panel that uses
none, the columns the panel shows, and the 360 page's rows without the credit report's
queries."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from credo.accounts.models import DataScope
from credo.accounts.scope import can_access
from credo.collateral import panels, selectors, services
from credo.core.money import Money
from credo.customers.models import Customer
from credo.lending import selectors as lending_selectors
from credo.lending.models import Loan
from credo.origination.models import Application
from tests.factories import RoleFactory, UserFactory
from tests.origination.conftest import make_customer

pytestmark = pytest.mark.django_db


def _count(fn):
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return result, len(ctx.captured_queries)


@pytest.fixture
def scoped_users(org, owner, colleague, outsider):
    def user(name, scope, unit, active=True):
        role = RoleFactory(code=f"scope_{name}", name=name, data_scope=scope)
        return UserFactory(username=name, org_unit=unit, roles=[role], is_active=active)

    return [
        owner,
        colleague,
        outsider,
        user("team_a", DataScope.TEAM, org["team_a"]),
        user("team_b", DataScope.TEAM, org["team_b"]),
        user("branch_1", DataScope.BRANCH, org["b1"]),
        user("branch_2", DataScope.BRANCH, org["b2"]),
        user("no_team", DataScope.TEAM, org["head"]),
        user("all", DataScope.ALL, org["head"]),
        user("gone", DataScope.ALL, org["head"], active=False),
        AnonymousUser(),
    ]


def test_in_scope_is_can_access_on_the_loaded_row(customer, scoped_users):
    loaded = Customer.objects.get(pk=customer.pk)
    outcomes = set()
    for user in scoped_users:
        expected = can_access(loaded, user)
        outcomes.add(expected)
        result, queries = _count(lambda u=user: panels.in_scope(loaded, u))
        assert result is expected, user
        assert queries == 0  # the row's owner/team/branch, or no scope at all
        # a row read without those columns: the query decides, the same way
        narrow = Customer.objects.only("name").get(pk=customer.pk)
        assert panels.in_scope(narrow, user) is expected
    assert outcomes == {True, False}


@pytest.fixture
def secured_loan(owner, customer, house, loan, make_app):
    guarantor = make_customer(owner, n=31, name="保证人乙有限公司")
    house(loan=loan)
    app = make_app()
    Application.objects.filter(pk=app.pk).update(loan=loan)
    services.guarantee_create(
        actor=owner,
        guarantor=guarantor,
        contract_number="BZ-P1",
        kind="joint",
        amount=Money("100000"),
        application_id=app.pk,
    )
    services.ltv_snapshot_take(application=app, stage="application", actor=owner)
    return loan, app


def test_loan_panel_links_through_the_application_the_page_read(rf, owner, secured_loan):
    loan, app = secured_loan
    request = rf.get("/")
    request.user = owner
    page_loan = lending_selectors.loan_get(
        owner, loan.pk, related=lending_selectors.LOAN_PAGE_RELATED
    )
    assert lending_selectors.loan_origin(page_loan) == app
    html, queries = _count(lambda: panels.loan_panel(request, page_loan))
    # links, guarantees, the LTV limit and the snapshots: no application id, no scope query,
    # nothing per row (the owner's and guarantor's names come with their rows)
    assert queries == 4
    assert "太原市小店区长风街" in html and "保证人乙有限公司" in html and "BZ-P1" in html
    assert 'data-role="ltv-at-application"' in html and 'id="loan-security-add-collateral"' in html
    # a loan whose application was not read: one narrow query finds it
    fresh = Loan.objects.select_related("customer", "product_version").get(pk=loan.pk)
    again, queries = _count(lambda: panels.loan_panel(request, fresh))
    assert again == html and queries == 5
    # a loan read without application (cached as none): no query for it
    Application.objects.filter(pk=app.pk).update(loan=None)
    direct = Loan.objects.select_related("customer", "product_version").get(pk=loan.pk)
    assert lending_selectors.loan_origin(direct) is None
    assert _count(lambda: selectors._application_id_of(direct)) == (None, 0)
    assert selectors._application_id_of(Loan.objects.get(pk=loan.pk)) is None


def test_security_reads_the_columns_it_shows(secured_loan):
    loan, app = secured_loan
    security = selectors.loan_security(loan)
    assert len(security.links) == 1 and len(security.guarantees) == 1
    html, queries = _count(
        lambda: render_to_string("collateral/_security_panel.html", {"security": security})
    )
    assert queries == 0 and "保证人乙有限公司" in html
    link, g = security.links[0], security.guarantees[0]
    assert link.collateral.owner.name == loan.customer.name and g.guarantor.name
    assert security.value_fen == 50_000_000 and str(security.ltv) == "60.00"
    # the snapshot's items from the same columns
    app.refresh_from_db()  # linked to the loan
    snap = services.ltv_snapshot_take(application=app, stage="approval", actor=loan.owner)
    number = link.collateral.number
    assert snap.items == [{"id": link.collateral_id, "number": number, "value": 50_000_000}]


def test_panels_need_no_context_processors(rf, owner, secured_loan):
    loan, _app = secured_loan
    request = rf.get("/")
    request.user = owner
    security = selectors.loan_security(loan)
    context = {"security": security, "panel_id": "p", "amount_label": "x", "add_urls": None}
    name = "collateral/_security_panel.html"
    assert render_to_string(name, context) == render_to_string(name, context, request=request)
    data = selectors.customer_collateral(loan.customer)
    context = {"data": data, "customer": loan.customer}
    name = "collateral/_customer_panel.html"
    assert render_to_string(name, context) == render_to_string(name, context, request=request)


def test_customer_rows_read_only_what_they_show(owner, customer, house, loan, secured_loan):
    other = make_customer(owner, n=32, name="借款人丙有限公司")
    theirs = Loan.objects.create(
        **{
            f.attname: getattr(loan, f.attname)
            for f in Loan._meta.concrete_fields
            if not f.primary_key and f.attname != "number"
        },
        number="L-THEIRS",
    )
    Loan.objects.filter(pk=theirs.pk).update(customer=other)
    services.guarantee_create(
        actor=owner,
        guarantor=customer,
        contract_number="BZ-GIVEN",
        kind="general",
        amount=Money("50000"),
        loan=theirs,
    )
    house(value=None)
    rows, queries = _count(lambda: panels.customer_rows(customer, owner))
    assert queries == 2  # owned, given (not the credit report's received and pledged)
    full = selectors.customer_collateral(customer)
    assert [r["title"].split()[0] for r in rows] == [c.number for c in full["owned"]] + [
        g.contract_number for g in full["given"]
    ]
    assert len(full["owned"]) == 2 and [g.contract_number for g in full["given"]] == ["BZ-GIVEN"]
    assert {r["amount"] for r in rows} == {"¥500,000.00", "—", "¥50,000.00"}
    assert rows[-1]["status"] == "生效中" and rows[0]["kind"] == "押品"
    assert panels.customer_rows(customer, None) == []


def test_application_panel_queries(rf, owner, customer, make_app, house):
    app = make_app()
    house(application_id=app.pk)
    app = Application.objects.select_related("customer", "product_version").get(pk=app.pk)
    request = rf.get("/")
    request.user = owner
    html, queries = _count(lambda: panels.application_panel(request, app))
    assert 'id="application-security-add-collateral"' in html
    assert queries == 4  # links, guarantees, LTV limit, snapshots; the scope from the row
    html, queries = _count(lambda: panels.application_panel(request, app, can_add=False))
    assert "add-collateral" not in html and queries == 4


def test_no_permission_no_reads(rf, secured_loan):
    loan, _app = secured_loan
    request = rf.get("/")
    request.user = UserFactory(username="nobody")
    assert not request.user.has_perm(panels.VIEW)  # (reads the user's permissions once)
    app = Application.objects.select_related("customer", "product_version").get(pk=_app.pk)
    assert _count(lambda: panels.loan_panel(request, loan)) == ("", 0)
    assert _count(lambda: panels.application_panel(request, app)) == ("", 0)
    assert panels.customer_panel(request, loan.customer) == ""
