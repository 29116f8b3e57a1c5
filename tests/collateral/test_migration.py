"""The data migration of ``Application.guarantees`` (JSON) into records."""

import importlib

import pytest
from django.apps import apps

from credo.collateral.models import Collateral, Guarantee
from credo.origination.models import Application
from tests.origination.conftest import make_customer

pytestmark = pytest.mark.django_db

migration = importlib.import_module("credo.collateral.migrations.0002_from_application_json")


def test_json_guarantees_become_records(make_app, owner, staff_perms):
    guarantor = make_customer(owner, n=7, name="太原保证人有限公司")
    app = make_app()
    # old data: the JSON list as applications were saved before collateral became records
    Application.objects.filter(pk=app.pk).update(
        guarantees=[
            {"type": "collateral", "name": "太原市迎泽区房产", "value": 80_000_000},
            {"type": "guarantor", "name": "太原保证人有限公司", "value": None},
            {"type": "guarantor", "name": "不存在的保证人", "value": None},
            {"type": "collateral", "name": "设备一批", "value": None},
        ]
    )
    migration.forward(apps, None)
    rows = list(Collateral.objects.order_by("number"))
    assert [c.description for c in rows] == ["太原市迎泽区房产", "设备一批"]
    house = rows[0]
    assert house.number == f"M{app.number}-1" and house.status == "draft"
    assert house.owner_id == app.customer_id and house.current_value.fen == 80_000_000
    assert house.valuations.get().method == "declared"
    assert house.links.get().application_id == app.pk
    assert rows[1].current_value is None
    g = Guarantee.objects.get()
    assert g.guarantor == guarantor and g.kind == "general" and g.amount == app.amount
    expected = [f"{app.number}#3: guarantor '不存在的保证人' matches 0 customers"]
    assert expected == migration.UNMAPPED
    # a second run adds nothing
    migration.forward(apps, None)
    assert Collateral.objects.count() == 2 and Guarantee.objects.count() == 1
