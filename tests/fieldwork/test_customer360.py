"""The customer 360 page's inspection rows: the same inspections as the field-work lists."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credo.accounts.models import DataScope
from credo.fieldwork.hooks import customer_inspections
from credo.fieldwork.models import Inspection
from credo.fieldwork.selectors import inspection_visible_q, inspections_for
from tests.factories import UserFactory, role_with_perms
from tests.fieldwork.conftest import DAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org, am, am2, outsider_am, customer_factory, loan_factory):
    """Inspections of one customer owned across teams and branches, some assigned away."""
    customer = customer_factory(name="晋阳机械有限公司")
    rows = [
        (am, am, org["team_a"], org["b1"]),
        (am2, am2, org["team_a"], org["b1"]),
        (am2, am, org["team_a"], org["b1"]),  # am2's, assigned to am
        (outsider_am, outsider_am, org["team_c"], org["b2"]),
        (outsider_am, am, org["team_c"], org["b2"]),  # another branch's, assigned to am
    ]
    for i, (owner, assignee, team, branch) in enumerate(rows):
        Inspection.objects.create(
            loan=loan_factory(customer),
            customer=customer,
            kind=Inspection.Kind.choices[i % len(Inspection.Kind.choices)][0],
            due_date=DAY,
            planned_on=DAY,
            frequency_days=90,
            owner=owner,
            assignee=assignee,
            team=team,
            branch=branch,
        )
    return customer


def _users(org, am, am2, outsider_am):
    perm = "fieldwork.view_inspection"
    lead = UserFactory(
        username="lead",
        org_unit=org["team_a"],
        roles=[role_with_perms("fw_lead", DataScope.TEAM, perm)],
    )
    branch = UserFactory(
        username="branch",
        org_unit=org["b2"],
        roles=[role_with_perms("fw_branch", DataScope.BRANCH, perm)],
    )
    everyone = UserFactory(
        username="all",
        org_unit=org["head"],
        roles=[role_with_perms("fw_all", DataScope.ALL, perm)],
    )
    gone = UserFactory(username="gone", org_unit=org["team_a"], roles=[], is_active=False)
    return [am, am2, outsider_am, lead, branch, everyone, gone]


def test_visible_q_selects_what_inspections_for_selects(org, am, am2, outsider_am, book):
    for user in _users(org, am, am2, outsider_am):
        expected = set(inspections_for(user).values_list("pk", flat=True))
        got = set(
            Inspection.objects.filter(inspection_visible_q(user)).values_list("pk", flat=True)
        )
        assert got == expected, user.username
    assert len(set(inspections_for(am).values_list("pk", flat=True))) == 3


def test_customer_rows_in_one_query(org, am, am2, outsider_am, book):
    for user in _users(org, am, am2, outsider_am)[:-1]:
        visible = inspections_for(user).filter(customer=book).order_by("-due_date", "-id")
        with CaptureQueriesContext(connection) as queries:
            rows = customer_inspections(book, user)
        assert len(queries.captured_queries) <= 1, user.username
        assert [r["url"] for r in rows] == [
            f"/fieldwork/inspections/{i.pk}/" for i in visible[:20]
        ], user.username
        assert all(r["title"].endswith(f" · {i.loan.number}") for r, i in zip(rows, visible))
