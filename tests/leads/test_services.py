import datetime as dt

import pytest
from django.utils import timezone

from credo.core.todo.models import Todo
from credo.customers.models import Customer, CustomerEvent
from credo.customers.services import customer_create
from credo.leads import services
from credo.leads.errors import InvalidLead, InvalidTransition, LeadError
from credo.leads.models import FollowUp, Lead, LeadAssignee
from tests.customers.conftest import make_id, make_uscc

pytestmark = pytest.mark.django_db


def test_create_routes_to_team_round_robin(owner, colleague, outsider, lead_data):
    a = services.lead_create(actor=None, data=lead_data(1))
    b = services.lead_create(actor=None, data=lead_data(2))
    assert {a.owner, b.owner} == {owner, colleague}
    assert a.team.code == "ty-a" and a.assignment_version.number == 1
    assert a.assignment_info["note"] == "round_robin"
    assert a.assignment_info["reasons"][0]["description"] == "太原 → 太原一组"
    c = services.lead_create(actor=None, data=lead_data(3, region_code="140213"))
    assert c.owner == outsider and c.team.code == "dt-a"


def test_business_type_routes_other_team_left_unassigned(owner, org, lead_data):
    lead = services.lead_create(actor=None, data=lead_data(1, business_type="mortgage"))
    # Team ty-b has no members: the lead waits with the team, unassigned.
    assert lead.owner is None and lead.team == org["team_b"]
    assert lead.assignment_info["note"] == "none_available"


def test_capacity_and_opt_out(owner, colleague, lead_data):
    LeadAssignee.objects.create(user=owner, max_open=1)
    LeadAssignee.objects.create(user=colleague, active=False)
    first = services.lead_create(actor=None, data=lead_data(1))
    second = services.lead_create(actor=None, data=lead_data(2))
    assert first.owner == owner and second.owner is None
    # Capacity freed (lead lost) → the scheduled task picks the waiting lead up.
    services.lead_change_stage(lead=first, stage="lost", actor=owner, reason="无需求")
    assert services.assign_unassigned() == 1
    second.refresh_from_db()
    assert second.owner == owner


def test_duplicate_flag_and_merge(owner, colleague, lead_data):
    first = services.lead_create(actor=None, data=lead_data(1))
    dup = services.lead_create(actor=None, data=lead_data(1, name="同一手机号"))
    assert dup.is_duplicate and dup.duplicate_of == first
    services.followup_add(lead=dup, actor=dup.owner, kind="call", outcome="接通")
    original = services.lead_merge(lead=dup, actor=owner)
    dup.refresh_from_db()
    assert original == first and dup.stage == "lost" and dup.lost_reason == "重复"
    assert FollowUp.objects.filter(lead=first).count() == 1
    # A duplicate older than 90 days is a new lead.
    Lead.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(days=91))
    fresh = services.lead_create(actor=None, data=lead_data(1, name="三个月后"))
    assert not fresh.is_duplicate


def test_invalid_input_nothing_written(lead_data):
    with pytest.raises(InvalidLead) as exc:
        services.lead_create(actor=None, data=lead_data(1, phone="", region_code="999999"))
    assert set(exc.value.field_errors) == {"phone", "region_code"}
    assert Lead.objects.count() == 0


def test_follow_up_moves_stage_and_creates_todo(owner, lead_data):
    lead = services.lead_create(actor=owner, data=lead_data(1), owner=owner)
    nxt = timezone.localdate() + dt.timedelta(days=3)
    services.followup_add(
        lead=lead, actor=owner, kind="visit", outcome="有意向", next_step="送材料", next_date=nxt
    )
    lead.refresh_from_db()
    assert lead.stage == "contacted" and lead.next_follow_up == nxt and lead.contacted_at
    todo = Todo.objects.get(user=owner, dedupe_key=f"lead-followup:{lead.pk}")
    assert todo.due_date == nxt and todo.url.endswith(f"/leads/{lead.pk}/")
    later = nxt + dt.timedelta(days=2)
    services.followup_add(lead=lead, actor=owner, kind="call", outcome="再约", next_date=later)
    assert Todo.objects.filter(user=owner, dedupe_key=f"lead-followup:{lead.pk}").count() == 1
    assert Todo.objects.get(dedupe_key=f"lead-followup:{lead.pk}").due_date == later


def test_invalid_transition_nothing_changed(owner, lead_data):
    lead = services.lead_create(actor=owner, data=lead_data(1), owner=owner)
    with pytest.raises(InvalidTransition):
        services.lead_change_stage(lead=lead, stage="lost", actor=owner)  # no reason
    with pytest.raises(InvalidTransition):
        services.lead_change_stage(lead=lead, stage="converted", actor=owner)
    services.lead_change_stage(lead=lead, stage="lost", actor=owner, reason="联系不上")
    with pytest.raises(InvalidTransition):
        services.lead_change_stage(lead=lead, stage="contacted", actor=owner)
    lead.refresh_from_db()
    assert lead.stage == "lost" and lead.contacted_at is None


def test_convert_creates_customer_with_timeline(owner, lead_data):
    lead = services.lead_create(
        actor=owner, data=lead_data(1, uscc=make_uscc(5), name="晋阳商贸"), owner=owner
    )
    services.followup_add(lead=lead, actor=owner, kind="call", outcome="有意向")
    lead, customer, linked = services.lead_convert(lead=lead, actor=owner)
    assert not linked and customer.kind == "enterprise" and customer.owner == owner
    assert lead.stage == "converted" and lead.customer == customer and lead.qualified_at
    kinds = list(CustomerEvent.objects.filter(customer=customer).values_list("kind", flat=True))
    assert sorted(kinds) == ["created", "follow_up", "other"]


def test_convert_links_existing_customer_by_phone(owner, lead_data):
    existing = customer_create(
        actor=owner,
        data={"kind": "individual", "name": "李", "id_number": make_id(3), "phone": "13800000001"},
    )
    lead = services.lead_create(actor=owner, data=lead_data(1), owner=owner)
    assert services.find_customer(lead) == existing
    _lead, customer, linked = services.lead_convert(lead=lead, actor=owner)
    assert linked and customer == existing and Customer.objects.count() == 1


def test_convert_individual_needs_id_number(owner, lead_data):
    lead = services.lead_create(actor=owner, data=lead_data(1), owner=owner)
    with pytest.raises(LeadError) as exc:
        services.lead_convert(lead=lead, actor=owner)
    assert "id_number" in exc.value.field_errors
    lead.refresh_from_db()
    assert lead.stage == "new" and Customer.objects.count() == 0
    _lead, customer, _linked = services.lead_convert(
        lead=lead, actor=owner, data={"id_number": make_id(9)}
    )
    assert customer.kind == "individual"


def test_book_reassign(owner, colleague, lead_data, individual_data_factory):
    lead = services.lead_create(actor=owner, data=lead_data(1), owner=owner)
    customer_create(actor=owner, data=individual_data_factory(1))
    counts = services.book_reassign(from_user=owner, to_user=colleague, actor=colleague)
    assert counts == {"leads": 1, "customers": 1}
    lead.refresh_from_db()
    assert lead.owner == colleague
    assert Customer.objects.get().owner == colleague


def test_follow_up_reminder_once_per_lead_and_day(db, owner):
    import datetime as dt

    from credo.leads.models import Lead
    from credo.leads.services import follow_up_reminders_send
    from credo.notify.models import Message

    day = dt.date(2026, 12, 1)
    lead = Lead.objects.create(
        name="提醒测试商行", owner=owner, stage="contacted", next_follow_up=day
    )
    Lead.objects.create(
        name="不到期", owner=owner, stage="contacted", next_follow_up=day + dt.timedelta(days=1)
    )
    assert follow_up_reminders_send(day) == 1
    assert follow_up_reminders_send(day) == 1  # same messages returned, nothing new queued
    msgs = Message.objects.filter(dedupe_key__startswith=f"lead-follow-up:{lead.pk}:")
    assert msgs.count() >= 1 and "提醒测试商行" in msgs.first().subject
