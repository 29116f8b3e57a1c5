"""Each action, through the owning app's services, as the service identity."""

from __future__ import annotations

import pytest

from credo.automations import engine
from credo.automations.models import AutomationRun
from credo.core.audit.models import AuditEntry
from credo.core.events.stream import events_pump
from credo.core.todo.models import Todo
from credo.customers.services.records import customer_update

pytestmark = pytest.mark.django_db

ON_UPDATE = {"type": "event", "event": "customer.update"}


def _fire(customer, owner, **data):
    customer_update(customer=customer, actor=owner, data=data or {"address": "太原市"})
    events_pump()


def _run(v):
    return AutomationRun.objects.get(version=v)


def test_assign_owner_as_the_service_identity(build, customer, owner, colleague):
    v = build(ON_UPDATE, [{"type": "assign_owner", "user": colleague.pk}])
    _fire(customer, owner)
    customer.refresh_from_db()
    assert customer.owner_id == colleague.pk
    run = _run(v)
    assert run.status == "done" and run.outcomes[0]["ok"]
    entry = AuditEntry.objects.get(action="customer.reassign", object_id=str(customer.pk))
    assert entry.actor_name == engine.SERVICE_USERNAME
    assert entry.request_id == f"auto:1:{run.pk}"


def test_todo_with_due_date(build, customer, owner):
    from credo.core import clock

    v = build(
        ON_UPDATE, [{"type": "todo", "title": "核实地址", "due_days": 5, "assignee": "owner"}]
    )
    _fire(customer, owner)
    todo = Todo.objects.get(user=owner, title="核实地址")
    assert (todo.due_date - clock.today()).days == 5 and todo.source == "automation"
    assert _run(v).outcomes[0]["ok"]


def test_notification_through_a_channel(build, customer, owner):
    from credo.notify.models import Message
    from credo.notify.services import registered_templates

    code = next(iter(registered_templates()))
    v = build(
        ON_UPDATE, [{"type": "notify", "template": code, "channel": "inapp", "recipient": "owner"}]
    )
    _fire(customer, owner)
    run = _run(v)
    assert run.outcomes[0]["ok"], run.outcomes
    assert Message.objects.filter(user=owner, kind="inapp", template_code=code).exists()


def test_status_change_only_allowed_transitions(build, owner):
    from credo.leads.models import Lead
    from credo.leads.services import lead_change_stage

    ok = Lead.objects.create(name="甲", phone="13800000011", owner=owner, source="manual")
    v = build({"type": "event", "event": "lead.update"}, [{"type": "status", "to": "contacted"}])
    from credo.automations.actions import ACTION_TYPES, ExecContext
    from credo.automations.triggers import Occurrence

    # allowed: new → contacted, through lead_change_stage
    occ = Occurrence(
        key="t:1", trigger_type="event", object_type="leads.lead", object_id=str(ok.pk)
    )
    engine.fire(v, occ)
    ok.refresh_from_db()
    assert ok.stage == "contacted"
    # refused: lost → contacted is not in the table; nothing changes, the run says why
    lost = Lead.objects.create(name="乙", phone="13800000012", owner=owner, source="manual")
    lead_change_stage(lead=lost, stage="lost", actor=owner, reason="无需求")
    result = engine.fire(
        v,
        Occurrence(
            key="t:2", trigger_type="event", object_type="leads.lead", object_id=str(lost.pk)
        ),
    )
    lost.refresh_from_db()
    assert lost.stage == "lost"
    assert result.status == "failed" and not result.outcomes[0]["ok"]
    assert ACTION_TYPES["status"] and ExecContext  # the public names used by docs


def test_risk_flag(build, customer, owner):
    v = build(ON_UPDATE, [{"type": "risk_flag", "flag": "litigation", "on": True}])
    _fire(customer, owner)
    customer.refresh_from_db()
    assert "litigation" in customer.risk_flags and _run(v).outcomes[0]["ok"]


def test_start_an_approval_flow(build, customer, owner, monkeypatch):
    calls = []

    def fake_start(**kw):
        calls.append(kw)

        class Instance:
            pk = 77

        return Instance()

    monkeypatch.setattr("credo.approvals.services.start.approval_start", fake_start)
    from credo.approvals.defaults import default_flows

    flow = default_flows.keys()[0]
    v = build(ON_UPDATE, [{"type": "approval", "flow": flow, "title": "审批 {{ record.name }}"}])
    _fire(customer, owner)
    assert _run(v).outcomes[0]["ok"], _run(v).outcomes
    [call] = calls
    assert call["subject"] == customer and call["flow_key"] == flow
    assert (
        call["title"] == "审批 太原钢铁贸易" and call["actor"].username == engine.SERVICE_USERNAME
    )


def test_create_custom_record(build, customer, owner, monkeypatch):
    """records.services.record_create is the contract (helper ``records``); a stand-in checks
    the call when its record type table is there."""
    from credo.records.models import RecordType

    rtype = RecordType.objects.create(code="visit", name="走访记录", attached_to="customer")
    calls = []

    def fake_create(**kw):
        calls.append(kw)

        class R:
            pk = 5
            number = "R0005"

        return R()

    monkeypatch.setattr("credo.records.services.record_create", fake_create)
    v = build(
        ON_UPDATE,
        [{"type": "record", "record_type": "visit", "values": {"note": "{{ record.name }}"}}],
    )
    _fire(customer, owner)
    assert _run(v).outcomes[0]["ok"], _run(v).outcomes
    [call] = calls
    assert call["record_type"] == rtype and call["customer"] == customer
    assert call["values"] == {"note": "太原钢铁贸易"}


def test_outbound_webhook(build, customer, owner, admin):
    from credo.webhooks.models import WebhookDelivery
    from credo.webhooks.services import endpoint_create

    endpoint, _secret = endpoint_create(
        name="风控中台", url="http://127.0.0.1:9/hook", event_types=["loan.write_off"], actor=admin
    )
    v = build(ON_UPDATE, [{"type": "webhook", "endpoint": endpoint.pk}])
    _fire(customer, owner)
    assert _run(v).outcomes[0]["ok"], _run(v).outcomes
    [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert delivery.event_type == "customer.update"
    assert delivery.payload["object"]["id"] == str(customer.pk)
    assert delivery.payload["automation"]["version"] == 1
    assert delivery.idempotency_key.startswith(f"auto:{v.pk}:audit:")


def test_a_failing_action_does_not_stop_the_others(build, customer, owner):
    v = build(
        {"type": "event", "event": "customer.update"},
        [{"type": "status", "to": "closed"}, {"type": "todo", "title": "仍然创建", "due_days": 0}],
    )
    _fire(customer, owner)
    run = _run(v)
    assert run.status == "failed"
    assert [o["ok"] for o in run.outcomes] == [False, True]
    assert Todo.objects.filter(title="仍然创建").exists()


def test_create_custom_record_for_real(build, customer, owner, admin):
    """The real ``records.services.record_create`` with the service identity (a record type whose
    fields are open to every role)."""
    from credo.records import services as records
    from credo.records.models import CustomRecord

    designer = admin
    designer.is_superuser = True  # designs record types (records.manage_recordtype)
    rt = records.record_type_create(
        code="auto_note",
        name="自动备注",
        attached_to="customer",
        fields=[{"key": "note", "label": "备注", "type": "text"}],
        actor=designer,
    )
    records.record_type_publish(version=rt.versions.get(), actor=designer)
    v = build(
        ON_UPDATE,
        [
            {
                "type": "record",
                "record_type": "auto_note",
                "values": {"note": "地址变更：{{ record.address }}"},
            }
        ],
    )
    _fire(customer, owner, address="太原市")
    assert _run(v).outcomes[0]["ok"], _run(v).outcomes
    rec = CustomRecord.objects.get(record_type=rt)
    assert rec.customer_id == customer.pk and rec.values["note"] == "地址变更：太原市"
    assert rec.created_by.username == engine.SERVICE_USERNAME
