"""Issue 17: the status machines of collections, written out literally. Every allowed
(source, target) is allowed by credo.core.fsm, every other pair is refused, and the services
refuse what the table refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.collections import services, states
from credo.collections.errors import InvalidState
from credo.collections.models import CollectionCase, PromiseToPay
from credo.core import fsm
from credo.lending import eod
from tests.fsm_tables import assert_table

S = CollectionCase.Status
P = PromiseToPay.Status

CASE_ALLOWED = {
    ("open", "promised"),
    ("open", "escalated"),
    ("open", "legal"),
    ("open", "closed"),
    ("promised", "open"),
    ("promised", "escalated"),
    ("promised", "legal"),
    ("promised", "closed"),
    ("escalated", "open"),
    ("escalated", "promised"),
    ("escalated", "legal"),
    ("escalated", "closed"),
    ("legal", "open"),
    ("legal", "promised"),
    ("legal", "escalated"),
    ("legal", "closed"),
}
PROMISE_ALLOWED = {("pending", "kept"), ("pending", "broken")}


def test_case_machine():
    assert fsm.machine_for(CollectionCase) is states.CASE_MACHINE
    assert_table(states.CASE_MACHINE, S.values, CASE_ALLOWED)


def test_case_machine_is_the_event_table():
    derived = {
        (s, t)
        for s, events in states.TRANSITIONS.items()
        for targets in events.values()
        for t in targets
        if t != s
    }
    assert set(states.CASE_MACHINE.pairs()) == derived == CASE_ALLOWED
    assert states.CASE_MACHINE.final_states() == ["closed"]
    assert states.CASE_MACHINE.initial == {"open", "escalated", "legal"}


def test_promise_machine():
    m = fsm.machine_for(PromiseToPay)
    assert_table(m, P.values, PROMISE_ALLOWED)
    assert m.initial == {"pending"}


@pytest.fixture
def case(loan, junior, senior):
    eod.run_eod(dt.date(2026, 2, 20))  # 5 days overdue → call tier, 催收中
    return CollectionCase.objects.get(loan=loan)


@pytest.mark.django_db
def test_services_refuse_what_the_table_refuses(case, junior):
    CollectionCase.objects.filter(pk=case.pk).update(status=S.CLOSED)
    case.refresh_from_db()
    with pytest.raises(InvalidState):
        services.promise_create(
            case=case,
            promised_date=dt.date(2026, 2, 21),
            amount=50000,
            actor=junior,
            today=dt.date(2026, 2, 20),
        )
    with pytest.raises(fsm.TransitionRefused):
        fsm.transition(case, S.OPEN)
    case.refresh_from_db()
    assert case.status == S.CLOSED
