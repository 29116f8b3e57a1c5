"""Each trigger type fires (once) on what it is about, and not on anything else."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.automations import engine
from credo.automations.models import AutomationRun
from credo.core.audit.services import audit_record
from credo.core.events.stream import events_pump
from credo.core.todo.models import Todo
from credo.customers.models import Authorization, Customer
from credo.customers.services.records import customer_update
from credo.lending.models import LoanClassHistory

pytestmark = pytest.mark.django_db

TODO = [{"type": "todo", "title": "跟进 {{ record.repr }}", "due_days": 3, "assignee": "owner"}]
DAY = dt.date(2026, 6, 15)


def _runs(version, **kw):
    return list(AutomationRun.objects.filter(version=version, **kw).order_by("id"))


def test_record_changed_with_field_filter(build, customer, owner):
    v = build({"type": "event", "event": "customer.update", "fields": ["address"]}, TODO)
    customer_update(customer=customer, actor=owner, data={"employer": "某单位"})
    events_pump()
    assert _runs(v) == []  # another field changed: no firing
    customer_update(customer=customer, actor=owner, data={"address": "太原市小店区"})
    events_pump()
    [run] = _runs(v)
    assert run.status == "done" and run.condition_result is True
    assert run.event["type"] == "customer.update" and "address" in run.event["changes"]
    todo = Todo.objects.get(user=owner, source="automation")
    assert todo.title == "跟进 太原钢铁贸易"
    events_pump()  # the todo's own event is not an update of the customer: nothing more
    assert len(_runs(v)) == 1


def test_record_created_with_value_filter(build, owner, org):
    from credo.customers.services.records import customer_create

    v = build({"type": "event", "event": "customer.create", "equals": {"kind": "enterprise"}}, TODO)
    customer_create(
        actor=owner,
        data={
            "kind": "individual",
            "name": "张三",
            "id_number": "110101199003070011",
            "phone": "13800000002",
        },
    )
    customer_create(
        actor=owner, data={"kind": "enterprise", "name": "晋中煤业", "uscc": "91140700MA0GRTLX3H"}
    )
    events_pump()
    assert [r.object_repr for r in _runs(v)] == ["晋中煤业"]


def test_status_transition_from_to(build, owner):
    from credo.leads.models import Lead
    from credo.leads.services import lead_change_stage

    lead = Lead.objects.create(name="王五", phone="13800000001", owner=owner, source="manual")
    v = build(
        {"type": "transition", "object": "lead", "from": "contacted", "to": "qualified"}, TODO
    )
    lead_change_stage(lead=lead, stage="contacted", actor=owner)
    events_pump()
    assert _runs(v) == []
    lead_change_stage(lead=lead, stage="qualified", actor=owner)
    events_pump()
    [run] = _runs(v)
    assert run.object_type == "leads.lead" and run.object_id == str(lead.pk)


@pytest.mark.parametrize(
    ("action", "object_type"),
    [
        ("loan.repayment", "lending.loan"),
        ("collections.promise_broken", "collections.promisetopay"),
    ],
)
def test_repayment_posted_and_promise_broken(build, make_loan, customer, action, object_type):
    loan = make_loan(customer, dues=[DAY])
    v = build({"type": "event", "event": action}, TODO)
    # the audit row the repayment / promise service writes (same action, object and shape)
    obj_id = loan.pk if object_type == "lending.loan" else 999
    audit_record(
        action=action,
        object_type=object_type,
        object_id=obj_id,
        object_repr="x",
        changes={"amount": {"old": None, "new": 100000}},
    )
    events_pump()
    [run] = _runs(v)
    assert run.event["type"] == action


def test_date_reached_installment_due(build, make_loan, customer, owner):
    loan = make_loan(customer, dues=[DAY + dt.timedelta(days=3), DAY + dt.timedelta(days=33)])
    v = build({"type": "date", "field": "installment_due", "days": 3}, TODO)
    assert engine.scan_daily(DAY) == {"occurrences": 1, "fired": 1}
    [run] = _runs(v)
    assert run.object_id == str(loan.pk) and run.event["period"] == 1
    assert engine.scan_daily(DAY) == {"occurrences": 1, "fired": 0}  # idempotent per date
    assert len(_runs(v)) == 1


def test_date_reached_birthday_authorization_anniversary(build, make_loan, owner, org, customer):
    person = Customer.objects.create(
        kind="individual",
        name="李四",
        id_number="110101199006180013",
        owner=owner,
        team=org["team_a"],
        branch=org["b1"],
    )
    b = build({"type": "date", "field": "birthday", "days": 3}, TODO, name="生日")
    Authorization.objects.create(
        customer=customer,
        scope="credit",
        granted_by="法人",
        valid_from=DAY - dt.timedelta(days=300),
        valid_until=DAY + dt.timedelta(days=10),
        recorded_by=owner,
    )
    a = build({"type": "date", "field": "authorization_expiring", "days": 10}, TODO, name="授权")
    loan = make_loan(customer, dues=[DAY + dt.timedelta(days=200)], start=dt.date(2025, 6, 15))
    y = build({"type": "date", "field": "loan_anniversary", "days": 0}, TODO, name="周年")
    engine.scan_daily(DAY)
    assert [r.object_id for r in _runs(b)] == [str(person.pk)]
    assert [r.object_id for r in _runs(a)] == [str(customer.pk)]
    [run] = _runs(y)
    assert run.object_id == str(loan.pk) and run.event["years"] == 1


def test_close_of_business_overdue_days_and_class_changed(build, make_loan, customer):
    late = make_loan(customer, dues=[DAY - dt.timedelta(days=30)], dpd=30)
    make_loan(customer, dues=[DAY - dt.timedelta(days=29)], dpd=29)
    o = build({"type": "eod", "result": "overdue_days", "days": 30}, TODO, name="逾期")
    LoanClassHistory.objects.create(
        loan=late, date=DAY, from_class="normal", to_class="special", dpd=30
    )
    c = build({"type": "eod", "result": "class_changed", "to_class": "special"}, TODO, name="分类")
    engine.scan_daily(DAY)
    assert [r.object_id for r in _runs(o)] == [str(late.pk)]
    assert [r.event["to_class"] for r in _runs(c)] == ["special"]


def test_after_close_job_and_consumer_are_registered():
    from credo.core.events.stream import consumers
    from credo.lending.eod.common import after_close_jobs

    assert after_close_jobs.get("automations") is not None
    assert consumers.get("automations") is not None


def test_alert_raised_scanned_from_the_head(build, make_loan, customer):
    from django.utils import timezone

    from credo.monitoring.models import Alert

    loan = make_loan(customer, dues=[DAY])
    common = dict(
        rule_code="R1",
        rule_name="逾期",
        loan=loan,
        customer=customer,
        business_date=DAY,
        last_seen_on=DAY,
        owner_id=customer.owner_id,
        team_id=customer.team_id,
        branch_id=customer.branch_id,
        due_at=timezone.now() + dt.timedelta(hours=24),
    )
    Alert.objects.create(severity="high", **common)  # before publishing: not delivered
    v = build({"type": "alert", "severity": "high"}, TODO)
    Alert.objects.filter(loan=loan).delete()
    a2 = Alert.objects.create(severity="high", **common)
    Alert.objects.create(severity="low", **{**common, "rule_code": "R2"})
    engine.scan_periodic()
    assert [r.object_id for r in _runs(v)] == [str(a2.pk)]
    engine.scan_periodic()
    assert len(_runs(v)) == 1


def test_cron_schedule_fires_once_per_slot(build, admin):
    from django.utils import timezone

    v = build(
        {"type": "cron", "cron": "0 9 * * *"},
        [{"type": "todo", "title": "晨会", "due_days": 0, "assignee": str(admin.pk)}],
    )
    now = timezone.now()
    engine.scan_periodic(now)
    assert _runs(v) == []  # published after the last slot: waits for the next one
    later = now + dt.timedelta(days=1, minutes=1)
    engine.scan_periodic(later)
    engine.scan_periodic(later)
    [run] = _runs(v)
    assert run.trigger_type == "cron" and Todo.objects.filter(user=admin, title="晨会").count() == 1


def test_custom_record_created(build, customer, owner, admin):
    from credo.records import services as records

    admin.is_superuser = True
    rt = records.record_type_create(
        code="visit_log",
        name="走访记录",
        attached_to="customer",
        fields=[{"key": "summary", "label": "摘要", "type": "text"}],
        actor=admin,
    )
    records.record_type_publish(version=rt.versions.get(), actor=admin)
    v = build(
        {"type": "event", "event": "records.create"},
        TODO,
        condition={"kind": "expression", "expression": "customer.name == '太原钢铁贸易'"},
        cases=[({"customer": {"name": "太原钢铁贸易"}}, True)],
    )
    rec = records.record_create(
        record_type=rt, values={"summary": "到访"}, actor=owner, customer=customer
    )
    events_pump()
    [run] = _runs(v)
    assert run.object_type == "records.customrecord" and run.object_id == str(rec.pk)
    assert run.inputs["customer"]["name"] == "太原钢铁贸易"  # the related record
