"""Try before publishing writes nothing; loop protection; idempotency; permissions; audit."""

from __future__ import annotations

import pytest

from credo.automations import engine, services
from credo.automations.errors import AutomationError
from credo.automations.models import AutomationRun
from credo.automations.triggers import Occurrence
from credo.core.audit.models import AuditEntry
from credo.core.events.stream import events_pump
from credo.core.todo.models import Todo
from credo.customers.models import Customer
from credo.customers.services.records import customer_reassign, customer_update
from tests.factories import UserFactory, role_with_perms

pytestmark = pytest.mark.django_db

ACTIONS = [
    {"type": "todo", "title": "跟进", "due_days": 2},
    {"type": "risk_flag", "flag": "litigation", "on": True},
]


def _counts():
    from credo.notify.models import Message

    return (
        Todo.objects.count(),
        AutomationRun.objects.count(),
        AuditEntry.objects.count(),
        Message.objects.count(),
        sorted(Customer.objects.values_list("id", "risk_flags", "owner_id")),
    )


def test_dry_run_on_existing_records_writes_nothing(build, customer, owner, org):
    other = Customer.objects.create(
        kind="individual", name="散户", owner=owner, team=org["team_a"], branch=org["b1"]
    )
    v = build(
        {"type": "event", "event": "customer.update"},
        ACTIONS,
        condition={"kind": "expression", "expression": "record.kind == 'enterprise'"},
        cases=[({"record": {"kind": "enterprise"}}, True)],
        publish=False,
    )
    before = _counts()
    results = {r.occurrence.object_id: r for r in engine.dry_run(v)}
    assert _counts() == before
    assert results[str(customer.pk)].fires and not results[str(other.pk)].fires
    messages = [o["message"] for o in results[str(customer.pk)].outcomes]
    assert "将为 张经理 创建待办" in messages[0] and "将为 太原钢铁贸易" in messages[1]


def test_replay_over_event_history_writes_nothing(build, customer, owner):
    events_pump()
    customer_update(customer=customer, actor=owner, data={"address": "太原市"})
    customer_update(customer=customer, actor=owner, data={"employer": "某单位"})
    events_pump()
    v = build(
        {"type": "event", "event": "customer.update", "fields": ["address"]}, ACTIONS, publish=False
    )
    before = _counts()
    results = engine.replay(v, days=7)
    assert _counts() == before
    assert [r.occurrence.event["changes"].keys() >= {"address"} for r in results] == [True]
    assert all(o["ok"] for o in results[0].outcomes)


def test_idempotent_per_event_and_version(build, customer):
    v = build({"type": "event", "event": "customer.update"}, ACTIONS[:1])
    occ = Occurrence(
        key="audit:999999",
        trigger_type="event",
        object_type="customers.customer",
        object_id=str(customer.pk),
    )
    assert engine.fire(v, occ) is not None
    assert engine.fire(v, occ) is None
    assert AutomationRun.objects.filter(version=v).count() == 1
    assert Todo.objects.filter(title="跟进").count() == 1


def test_loop_protection_depth_limit(build, customer, owner, colleague, outsider):
    """Two automations reassigning each other's result would ping-pong for ever."""
    events_pump()
    a = build(
        {"type": "event", "event": "customer.reassign"},
        [{"type": "assign_owner", "user": colleague.pk}],
        name="甲",
    )
    b = build(
        {"type": "event", "event": "customer.reassign"},
        [{"type": "assign_owner", "user": outsider.pk}],
        name="乙",
    )
    customer_reassign(customer=customer, new_owner=colleague, actor=owner)
    for _ in range(10):
        events_pump()
    runs = AutomationRun.objects.filter(version__in=[a, b])
    assert max(runs.values_list("depth", flat=True)) == engine.MAX_DEPTH
    blocked = runs.filter(status="blocked")
    assert blocked.exists() and all(r.depth == engine.MAX_DEPTH for r in blocked)
    assert not runs.filter(depth__gt=engine.MAX_DEPTH).exists()
    n = runs.count()
    events_pump()
    assert AutomationRun.objects.filter(version__in=[a, b]).count() == n  # it has stopped


def test_publisher_permissions_checked_at_publish(build, org):
    weak = UserFactory(
        username="weak",
        org_unit=org["head"],
        roles=[
            role_with_perms(
                "auto_weak", "all", "automations.view_automation", "automations.manage_automation"
            )
        ],
    )
    v = build(
        {"type": "event", "event": "customer.update"},
        [{"type": "risk_flag", "flag": "litigation", "on": True}],
        publish=False,
    )
    with pytest.raises(AutomationError, match="customers.change_customer"):
        services.version_publish(version=v, actor=weak)
    v.refresh_from_db()
    assert v.status == "draft"
    nobody = UserFactory(username="nobody", org_unit=org["head"])
    with pytest.raises(AutomationError, match="没有配置自动化的权限"):
        services.automation_create(name="x", actor=nobody)


def test_publish_retires_previous_and_is_audited(build, admin):
    v1 = build({"type": "event", "event": "customer.update"}, ACTIONS[:1])
    assert v1.granted == ["automations.manage_automation"]
    v2 = services.version_new(automation=v1.automation, actor=admin)
    services.version_publish(version=v2, actor=admin)
    v1.refresh_from_db()
    assert v1.status == "retired"
    services.version_retire(version=v2, actor=admin)
    actions = set(
        AuditEntry.objects.filter(action__startswith="automation.").values_list("action", flat=True)
    )
    assert {
        "automation.create",
        "automation.version_update",
        "automation.version_publish",
        "automation.version_create",
        "automation.version_retire",
        "automation.testcase_create",
    } <= actions
    assert engine.wanted_actions() == set()  # nothing published any more: the consumer idles


def test_draft_edits_refused_when_incomplete(build, admin):
    v = build({"type": "event", "event": "customer.update"}, ACTIONS[:1], publish=False)
    with pytest.raises(AutomationError) as exc:
        services.version_update(
            version=v,
            actor=admin,
            trigger={"type": "event", "event": "nope"},
            condition={"kind": "none"},
            actions=[{"type": "todo", "title": ""}],
        )
    assert set(exc.value.field_errors) == {"trigger.event", "actions.1.title"}


def test_a_broken_automation_does_not_hold_up_the_stream(build, customer, owner, monkeypatch):
    from credo.automations import conditions
    from credo.core.events.models import EventCursor

    bad = build({"type": "event", "event": "customer.update"}, ACTIONS[:1], name="坏")
    good = build({"type": "event", "event": "customer.update"}, ACTIONS[:1], name="好")
    real = conditions.evaluate

    def evaluate(condition, ctx, _real=real):
        if condition.get("boom"):
            raise RuntimeError("boom")
        return _real(condition, ctx)

    bad.condition = {"kind": "none", "boom": True}
    bad.save(update_fields=["condition"])
    monkeypatch.setattr(conditions, "evaluate", evaluate)
    customer_update(customer=customer, actor=owner, data={"address": "太原市"})
    events_pump()
    assert not AutomationRun.objects.filter(version=bad).exists()
    assert AutomationRun.objects.get(version=good).status == "done"
    assert EventCursor.objects.get(name="automations").last_error == ""
