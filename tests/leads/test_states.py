"""The lead stage table (issue 17): every allowed transition listed literally, every other pair
refused, and a refused move in a service changes nothing."""

from __future__ import annotations

import pytest

from credo.core import fsm
from credo.core.audit.models import AuditEntry
from credo.leads import services
from credo.leads.errors import InvalidTransition
from credo.leads.models import Lead
from credo.leads.states import LEAD_MACHINE, TRANSITIONS
from tests.fsm_tables import assert_table

ALLOWED = {
    ("new", "contacted"),
    ("new", "qualified"),
    ("new", "lost"),
    ("new", "converted"),
    ("contacted", "qualified"),
    ("contacted", "lost"),
    ("contacted", "converted"),
    ("qualified", "contacted"),
    ("qualified", "lost"),
    ("qualified", "converted"),
}
# What people may choose on the lead page (converted only through lead_convert).
MANUAL = {
    "new": {"contacted", "qualified", "lost"},
    "contacted": {"qualified", "lost"},
    "qualified": {"contacted", "lost"},
    "converted": set(),
    "lost": set(),
}


def test_table_is_exactly_the_listed_transitions():
    assert set(LEAD_MACHINE.pairs()) == ALLOWED
    assert LEAD_MACHINE.initial == frozenset({"new"})
    assert LEAD_MACHINE.field == "stage"
    assert fsm.machine_for(Lead, "stage") is LEAD_MACHINE
    assert LEAD_MACHINE.states == frozenset(Lead.Stage.values)
    assert TRANSITIONS == MANUAL


def test_every_pair_allowed_or_refused():
    assert_table(LEAD_MACHINE, Lead.Stage.values, ALLOWED)


@pytest.mark.django_db
def test_refused_stage_change_changes_nothing(owner, lead_data):
    lead = services.lead_create(actor=owner, data=lead_data(1), owner=owner)
    services.lead_change_stage(lead=lead, stage="lost", actor=owner, reason="联系不上")
    lead.refresh_from_db()
    before = (lead.stage, lead.contacted_at, lead.qualified_at, lead.lost_reason)
    audits = AuditEntry.objects.count()
    with pytest.raises(InvalidTransition, match="不能从“已流失”变更为“已确认需求”。"):
        services.lead_change_stage(lead=lead, stage="qualified", actor=owner)
    lead.refresh_from_db()
    assert (lead.stage, lead.contacted_at, lead.qualified_at, lead.lost_reason) == before
    assert AuditEntry.objects.count() == audits
