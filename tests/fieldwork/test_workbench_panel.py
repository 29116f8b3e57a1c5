"""The account manager's 工作台 counts the inspections planned for them and the overdue ones;
each number is the row count of the inspection list it links to."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from credo.core import clock
from credo.fieldwork import services
from credo.fieldwork.models import Inspection
from credo.fieldwork.workbench_panels import planned_inspections
from tests.fieldwork.conftest import DAY

pytestmark = pytest.mark.django_db


def test_planned_and_overdue_inspections_counted_for_the_assignee(
    customer_factory, loan_factory, am, am2, monkeypatch
):
    loan_factory(customer_factory(), start=DAY - dt.timedelta(days=25))
    loan_factory(customer_factory(), start=DAY - dt.timedelta(days=28))
    services.plan_inspections(DAY)
    assert Inspection.objects.filter(assignee=am, status=Inspection.Status.PLANNED).count() == 2
    # one of them is past its due date
    Inspection.objects.filter(pk=Inspection.objects.order_by("id").first().pk).update(
        due_date=DAY - dt.timedelta(days=1)
    )
    monkeypatch.setattr(clock, "today", lambda: DAY)
    cards = {c["key"]: c for c in planned_inspections(am)["items"]}
    assert cards["inspections-planned"]["value"] == 2
    assert cards["inspections-overdue"]["value"] == 1
    # the links show the same rows
    client = Client()
    client.force_login(am)
    for key in ("inspections-planned", "inspections-overdue"):
        page = client.get(cards[key]["url"])
        assert page.status_code == 200
        assert len(page.context["page"].object_list) == cards[key]["value"]
    # another manager's plan is not theirs
    other = {c["key"]: c["value"] for c in planned_inspections(am2)["items"]}
    assert other == {"inspections-planned": 0, "inspections-overdue": 0}
