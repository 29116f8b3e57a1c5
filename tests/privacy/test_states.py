"""The data-subject request table: every allowed transition listed literally, every other
pair refused, and a refused step changes nothing."""

from __future__ import annotations

import pytest

from credo.core import fsm
from credo.core.audit.models import AuditEntry
from credo.privacy import services
from credo.privacy.errors import InvalidRequest
from credo.privacy.models import DataSubjectRequest
from credo.privacy.states import REQUEST_MACHINE
from tests.fsm_tables import assert_table

ALLOWED = {
    ("received", "held"),
    ("received", "completed"),
    ("received", "rejected"),
    ("held", "completed"),
    ("held", "rejected"),
}


def test_table_is_exactly_the_listed_transitions():
    assert set(REQUEST_MACHINE.pairs()) == ALLOWED
    assert REQUEST_MACHINE.initial == frozenset({"received"})
    assert fsm.machine_for(DataSubjectRequest) is REQUEST_MACHINE
    assert REQUEST_MACHINE.states == frozenset(DataSubjectRequest.Status.values)


def test_every_pair_allowed_or_refused():
    assert_table(REQUEST_MACHINE, DataSubjectRequest.Status.values, ALLOWED)


@pytest.mark.django_db
def test_refused_step_changes_nothing(officer, person):
    req = services.request_create(actor=officer, kind="access", customer=person)
    services.request_reject(actor=officer, request=req, reason="无法核实身份")
    req.refresh_from_db()
    audits = AuditEntry.objects.count()
    with pytest.raises(InvalidRequest):
        services.request_complete(actor=officer, request=req, outcome="已交付")
    req.refresh_from_db()
    assert req.status == "rejected" and req.outcome == ""
    assert AuditEntry.objects.count() == audits
