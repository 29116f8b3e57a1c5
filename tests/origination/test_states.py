"""The transition tables of applications and documents (credo.origination.states), walked
exhaustively: every allowed pair is allowed, every other pair is refused."""

from __future__ import annotations

import pytest

from credo.core import fsm
from credo.core.audit.models import AuditEntry
from credo.customers.models import CustomerEvent
from credo.origination import states
from credo.origination.errors import InvalidState
from credo.origination.models import Application, Document
from credo.origination.services import WITHDRAWABLE, common
from tests.fsm_tables import assert_table

APPLICATION_ALLOWED = {
    ("draft", "submitted"),
    ("draft", "withdrawn"),
    ("submitted", "admission_rejected"),
    ("submitted", "in_approval"),
    ("submitted", "approved"),
    ("submitted", "rejected"),
    ("submitted", "withdrawn"),
    ("in_approval", "returned"),
    ("in_approval", "approved"),
    ("in_approval", "rejected"),
    ("in_approval", "withdrawn"),
    ("returned", "in_approval"),
    ("returned", "approved"),
    ("returned", "rejected"),
    ("returned", "withdrawn"),
    ("approved", "contract_sent"),
    ("contract_sent", "signed"),
    ("contract_sent", "approved"),
    ("signed", "loan_created"),
}
DOCUMENT_ALLOWED = {
    ("pending", "accepted"),
    ("pending", "rejected"),
    ("accepted", "rejected"),
    ("rejected", "accepted"),
}


def test_machines_are_registered():
    assert fsm.machine_for(Application) is states.APPLICATION
    assert fsm.machine_for(Document) is states.DOCUMENT
    assert states.APPLICATION.initial == {"draft"}
    assert states.DOCUMENT.initial == {"pending"}


@pytest.mark.parametrize(
    "machine, allowed, choices",
    [
        (states.APPLICATION, APPLICATION_ALLOWED, Application.Status),
        (states.DOCUMENT, DOCUMENT_ALLOWED, Document.Status),
    ],
    ids=["application", "document"],
)
def test_every_pair(machine, allowed, choices):
    assert_table(machine, choices.values, allowed)


def test_final_states():
    assert set(states.APPLICATION.final_states()) == {
        "admission_rejected",
        "rejected",
        "withdrawn",
        "loan_created",
    }


def test_withdrawable_is_derived_from_the_table():
    assert set(WITHDRAWABLE) == {"draft", "submitted", "in_approval", "returned"}
    assert set(WITHDRAWABLE) == set(states.APPLICATION.sources_of("withdrawn"))


@pytest.mark.django_db
def test_refused_transition_raises_invalid_state_and_changes_nothing(make_app, owner):
    app = make_app()
    audits = AuditEntry.objects.count()
    events = CustomerEvent.objects.count()
    locked = common._lock(app)
    with pytest.raises(InvalidState) as info:
        common._transition(
            locked, Application.Status.LOAN_CREATED, actor=owner, title="x", detail={}
        )
    assert "草稿" in info.value.message and "待放款" in info.value.message
    app.refresh_from_db()
    assert app.status == "draft" and app.version == 1
    assert AuditEntry.objects.count() == audits and CustomerEvent.objects.count() == events


@pytest.mark.django_db
def test_withdraw_of_a_final_application_is_refused(make_app, owner):
    from credo.origination import services

    app = make_app()
    services.application_withdraw(application=app, actor=owner)
    app.refresh_from_db()
    version = app.version
    audits = AuditEntry.objects.count()
    with pytest.raises(InvalidState):
        services.application_withdraw(application=app, actor=owner)
    app.refresh_from_db()
    assert app.status == "withdrawn" and app.version == version
    assert AuditEntry.objects.count() == audits
