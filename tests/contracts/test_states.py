"""The transition table of contracts (credo.contracts.states), walked exhaustively."""

from __future__ import annotations

import pytest

from credo.contracts import services, states
from credo.contracts.errors import InvalidState
from credo.contracts.models import Contract, ContractEvent
from credo.core import fsm
from credo.core.audit.models import AuditEntry
from tests.fsm_tables import assert_table

ALLOWED = {
    ("draft", "sent"),
    ("draft", "cancelled"),
    ("sent", "signed"),
    ("sent", "rejected"),
    ("sent", "expired"),
    ("sent", "cancelled"),
}


def test_machine_is_registered():
    assert fsm.machine_for(Contract) is states.CONTRACT
    assert states.CONTRACT.initial == {"draft"}


def test_every_pair():
    m = states.CONTRACT
    assert_table(m, Contract.Status.values, ALLOWED)
    assert set(m.final_states()) == {"signed", "rejected", "expired", "cancelled"}


def test_open_states_match_the_model():
    assert set(states.OPEN_STATES) == {"draft", "sent"}
    for status in Contract.Status.values:
        assert Contract(status=status).is_open == (status in states.OPEN_STATES)


@pytest.mark.django_db
def test_refused_transition_raises_invalid_state_and_changes_nothing(make_contract, owner):
    contract = services.contract_cancel(contract=make_contract(), actor=owner)
    events = ContractEvent.objects.filter(contract=contract).count()
    audits = AuditEntry.objects.count()
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    with pytest.raises(InvalidState) as info:
        services._apply_status(locked, "signed", actor=None, source="test")
    assert "已作废" in info.value.message and "已签署" in info.value.message
    contract.refresh_from_db()
    assert contract.status == "cancelled" and contract.signed_at is None
    assert ContractEvent.objects.filter(contract=contract).count() == events
    assert AuditEntry.objects.count() == audits
