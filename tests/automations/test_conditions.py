"""Conditions: ZEN expressions over the record and related records, decision tables, test cases."""

from __future__ import annotations

import pytest

from credo.automations import conditions, services
from credo.automations.errors import AutomationError
from credo.automations.models import AutomationRun
from credo.core.events.stream import events_pump
from credo.customers.services.records import customer_update

pytestmark = pytest.mark.django_db

TODO = [{"type": "todo", "title": "跟进", "due_days": 1}]

TABLE = {
    "nodes": [
        {"id": "in", "type": "inputNode", "name": "输入", "position": {"x": 0, "y": 0}},
        {
            "id": "t",
            "type": "decisionTableNode",
            "name": "规则",
            "position": {"x": 200, "y": 0},
            "content": {
                "hitPolicy": "first",
                "inputs": [{"id": "c1", "name": "逾期天数", "field": "loan.dpd"}],
                "outputs": [{"id": "o1", "name": "执行", "field": "fire"}],
                "rules": [
                    {"_id": "r1", "c1": ">= 30", "o1": "true"},
                    {"_id": "r2", "c1": "", "o1": "false"},
                ],
            },
        },
        {"id": "out", "type": "outputNode", "name": "输出", "position": {"x": 400, "y": 0}},
    ],
    "edges": [
        {"id": "e1", "sourceId": "in", "targetId": "t", "type": "edge"},
        {"id": "e2", "sourceId": "t", "targetId": "out", "type": "edge"},
    ],
}


def test_expression_over_record_and_related():
    cond = {
        "kind": "expression",
        "expression": "record.dpd >= 30 and customer.kind == 'enterprise'",
    }
    assert (
        conditions.evaluate(cond, {"record": {"dpd": 31}, "customer": {"kind": "enterprise"}})[0]
        is True
    )
    assert (
        conditions.evaluate(cond, {"record": {"dpd": 29}, "customer": {"kind": "enterprise"}})[0]
        is False
    )
    fires, why = conditions.evaluate(cond, {"record": {}, "customer": {}})
    assert fires is False and why  # a missing field never fires, and says why


def test_decision_table_output_fire():
    cond = {"kind": "table", "table": TABLE}
    assert conditions.validate(cond) == {}
    assert conditions.evaluate(cond, {"loan": {"dpd": 45}})[0] is True
    assert conditions.evaluate(cond, {"loan": {"dpd": 5}})[0] is False


def test_invalid_conditions_are_refused():
    assert "expression" in conditions.validate({"kind": "expression", "expression": "record.x >"})
    assert "expression" in conditions.validate({"kind": "expression", "expression": ""})
    no_fire = {
        "kind": "table",
        "table": {**TABLE, "nodes": [n for n in TABLE["nodes"] if n["id"] != "t"]},
    }
    assert "table" in conditions.validate(no_fire)


def test_condition_decides_the_live_firing(build, customer, owner):
    v = build(
        {"type": "event", "event": "customer.update"},
        TODO,
        condition={
            "kind": "expression",
            "expression": "event.changes.address.new == '太原市' and record.kind == 'enterprise'",
        },
        cases=[
            (
                {
                    "record": {"kind": "enterprise"},
                    "event": {"changes": {"address": {"new": "太原市"}}},
                },
                True,
            ),
            (
                {
                    "record": {"kind": "enterprise"},
                    "event": {"changes": {"address": {"new": "大同市"}}},
                },
                False,
            ),
        ],
    )
    customer_update(customer=customer, actor=owner, data={"address": "大同市"})
    customer_update(customer=customer, actor=owner, data={"address": "太原市"})
    events_pump()
    runs = list(AutomationRun.objects.filter(version=v).order_by("id"))
    assert [(r.condition_result, r.status) for r in runs] == [(False, "skipped"), (True, "done")]
    # ``record`` is the record when the automation runs; ``event.changes`` is the change itself
    assert runs[0].inputs["event"]["changes"]["address"]["new"] == "大同市"
    assert runs[1].inputs["record"]["address"] == "太原市"
    assert "id_number" not in runs[1].inputs["record"]  # encrypted fields never reach conditions


def test_publish_needs_passing_test_cases(build, admin):
    v = build(
        {"type": "event", "event": "customer.update"},
        TODO,
        condition={"kind": "expression", "expression": "record.dpd > 3"},
        cases=[({"record": {"dpd": 1}}, True)],
        publish=False,
    )
    with pytest.raises(AutomationError, match="测试用例未通过"):
        services.version_publish(version=v, actor=admin)
    v.automation.test_cases.all().delete()
    with pytest.raises(AutomationError, match="至少需要一个测试用例"):
        services.version_publish(version=v, actor=admin)
    v.refresh_from_db()
    assert v.status == "draft"
