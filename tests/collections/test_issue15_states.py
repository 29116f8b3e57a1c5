"""Issue 15 item 5: the case state machine is one transition table; a promise to pay can be
recorded from every open state (已升级 → 已承诺 included) and a resolved promise takes the case
back to its tier's state."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.collections import services, states
from credo.collections.errors import InvalidState
from credo.collections.models import CollectionCase, PromiseToPay, Tier
from credo.collections.states import Event
from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.lending import eod

S = CollectionCase.Status
D = dt.date
OPEN_STATES = (S.OPEN, S.PROMISED, S.ESCALATED, S.LEGAL)
TIER_STATES = {S.OPEN, S.ESCALATED, S.LEGAL}

# The rules, written out independently of the code: (status, event) → allowed next statuses
# (empty = refused).
EXPECTED: dict[tuple[str, str], set[str]] = {}
for _s in OPEN_STATES:
    EXPECTED[(_s, Event.PROMISE)] = {S.PROMISED}
    EXPECTED[(_s, Event.CLOSE)] = {S.CLOSED}
    EXPECTED[(_s, Event.REOPEN)] = set()
for _s in (S.OPEN, S.ESCALATED, S.LEGAL):
    EXPECTED[(_s, Event.PROMISE_KEPT)] = {_s}
    EXPECTED[(_s, Event.PROMISE_BROKEN)] = {_s}
    EXPECTED[(_s, Event.ESCALATE)] = {S.ESCALATED}
    EXPECTED[(_s, Event.LEGAL)] = {S.LEGAL}
    EXPECTED[(_s, Event.DEESCALATE)] = {S.OPEN}
EXPECTED[(S.PROMISED, Event.PROMISE_KEPT)] = TIER_STATES | {S.PROMISED}
EXPECTED[(S.PROMISED, Event.PROMISE_BROKEN)] = TIER_STATES | {S.PROMISED}
for _e in (Event.ESCALATE, Event.LEGAL, Event.DEESCALATE):
    EXPECTED[(S.PROMISED, _e)] = {S.PROMISED}
for _e in Event.values:
    EXPECTED[(S.CLOSED, _e)] = set()
TIER_OF = {S.OPEN: Tier.CALL_JUNIOR, S.ESCALATED: Tier.SENIOR_LETTER, S.LEGAL: Tier.LEGAL}


@pytest.mark.parametrize(("status", "event"), itertools.product(S.values, Event.values))
def test_every_state_event_pair(status, event):
    assert set(states.allowed(status, event)) == EXPECTED[(status, event)]
    if not EXPECTED[(status, event)]:
        assert not states.can(status, event)
        with pytest.raises(InvalidState):
            states.next_status(status, event, tier=Tier.CALL_JUNIOR)
        return
    for tier in Tier.values:
        for pending in (0, 1):
            target = states.next_status(status, event, tier=tier, promises_pending=pending)
            assert target in EXPECTED[(status, event)]
            if status == S.PROMISED and event in (Event.PROMISE_KEPT, Event.PROMISE_BROKEN):
                assert target == (S.PROMISED if pending else states.tier_status(tier))


def test_tier_states():
    assert states.tier_status(Tier.SMS) == S.OPEN
    assert states.tier_status(Tier.CALL_JUNIOR) == S.OPEN
    assert states.tier_status(Tier.SENIOR_LETTER) == S.ESCALATED
    assert states.tier_status(Tier.LEGAL) == S.LEGAL
    assert set(states.sources(Event.CLOSE)) == set(OPEN_STATES)


_events = st.one_of(
    st.just(("promise", "")),
    st.just(("resolve", "kept")),
    st.just(("resolve", "broken")),
    st.tuples(st.just("tier"), st.sampled_from(Tier.values)),
    st.just(("close", "")),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(Tier.values), st.lists(_events, max_size=25))
def test_machine_invariants(tier, events):
    """Any sequence: while a promise is pending an open case is 已承诺; without one it is in
    its tier's state; 已结案 is final."""
    status, pending = states.tier_status(tier), 0
    for kind, arg in events:
        if status == S.CLOSED:
            event = {
                "promise": Event.PROMISE,
                "resolve": Event.PROMISE_KEPT,
                "tier": Event.ESCALATE,
                "close": Event.CLOSE,
            }[kind]
            with pytest.raises(InvalidState):
                states.next_status(status, event, tier=tier)
            continue
        if kind == "promise":
            status, pending = states.next_status(status, Event.PROMISE), pending + 1
        elif kind == "resolve" and pending:
            pending -= 1
            event = Event.PROMISE_KEPT if arg == "kept" else Event.PROMISE_BROKEN
            status = states.next_status(status, event, tier=tier, promises_pending=pending)
        elif kind == "tier":
            tier = arg
            status = states.next_status(status, states.tier_event(tier))
        elif kind == "close":
            status, pending = states.next_status(status, Event.CLOSE), 0
        if status != S.CLOSED:
            assert status == (S.PROMISED if pending else states.tier_status(tier))


# --- the services use the table ------------------------------------------------------------------


@pytest.fixture
def case(loan, junior, senior):
    eod.run_eod(D(2026, 2, 20))  # 5 days overdue → call tier, 催收中
    return CollectionCase.objects.get(loan=loan)


def _set(case, status):
    tier = TIER_OF.get(status, Tier.CALL_JUNIOR)
    CollectionCase.objects.filter(pk=case.pk).update(status=status, tier=tier)
    case.refresh_from_db()
    return case


def _promise(case, actor, day=D(2026, 2, 21), amount="500"):
    return services.promise_create(
        case=case, promised_date=day, amount=Money(amount), actor=actor, today=D(2026, 2, 20)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.OPEN, S.ESCALATED, S.LEGAL, S.PROMISED])
def test_promise_from_every_open_state(case, senior, status):
    case = _set(case, status)
    promise = _promise(case, senior)
    case.refresh_from_db()
    assert case.status == S.PROMISED
    entry = AuditEntry.objects.get(action="collections.promise", object_id=str(promise.pk))
    if status != S.PROMISED:
        assert entry.changes == {"status": [status, S.PROMISED]}


@pytest.mark.django_db
def test_promise_on_closed_case_refused_nothing_changes(case, senior):
    case = _set(case, S.CLOSED)
    with pytest.raises(InvalidState):
        _promise(case, senior)
    case.refresh_from_db()
    assert case.status == S.CLOSED and not PromiseToPay.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.OPEN, S.ESCALATED, S.LEGAL])
def test_broken_promise_returns_to_the_state_before(case, senior, status):
    case = _set(case, status)
    promise = _promise(case, senior)
    assert services.promises_check(D(2026, 2, 22)) == 1  # nothing paid
    case.refresh_from_db()
    promise.refresh_from_db()
    assert promise.status == "broken"
    assert (case.status, case.broken_promises) == (status, 1)
    entry = AuditEntry.objects.get(action="collections.promise_broken")
    assert entry.changes == {"status": [S.PROMISED, status]}


@pytest.mark.django_db
def test_kept_promise_leaves_promised(case, senior, finance):
    from credo.lending import services as lending_services

    case = _set(case, S.ESCALATED)
    promise = _promise(case, senior, amount="50")
    lending_services.repayment_post(
        loan=case.loan, amount=Money("100"), received_on=D(2026, 2, 21), actor=finance
    )
    assert services.promises_check(D(2026, 2, 22)) == 0
    promise.refresh_from_db()
    case.refresh_from_db()
    assert promise.status == "kept" and case.status == S.ESCALATED
    assert AuditEntry.objects.filter(action="collections.promise_kept").count() == 1


@pytest.mark.django_db
def test_second_pending_promise_keeps_case_promised(case, senior):
    _promise(case, senior, day=D(2026, 2, 21))
    later = _promise(case, senior, day=D(2026, 2, 25))
    services.promises_check(D(2026, 2, 22))  # the first is broken, the second still pending
    case.refresh_from_db()
    assert case.status == S.PROMISED and case.broken_promises == 1
    later.refresh_from_db()
    assert later.status == "pending"
    services.promises_check(D(2026, 2, 26))
    case.refresh_from_db()
    assert case.status == S.OPEN and case.broken_promises == 2


@pytest.mark.django_db
def test_escalation_while_promised_keeps_promise_then_broken_goes_to_escalated(case, junior):
    _promise(case, junior, day=D(2026, 2, 28))
    eod.run_eod(D(2026, 2, 26))  # 11 days overdue → senior tier, promise still pending
    case.refresh_from_db()
    assert (case.tier, case.status) == (Tier.SENIOR_LETTER, S.PROMISED)
    batch = AuditEntry.objects.filter(action="collections.cases_refreshed").latest("id")
    assert "transitions" in batch.metadata
    eod.run_eod(D(2026, 3, 1))  # promise date passed, nothing paid → broken
    case.refresh_from_db()
    assert (case.tier, case.status, case.broken_promises) == (Tier.SENIOR_LETTER, S.ESCALATED, 1)


@pytest.mark.django_db
def test_backfill_migration_marks_pending_promise_cases_promised(case, senior):
    import importlib

    from django.apps import apps

    _promise(case, senior)
    CollectionCase.objects.filter(pk=case.pk).update(status=S.ESCALATED)  # the old behaviour
    migration = importlib.import_module(
        "credo.collections.migrations.0002_compliance_choices_promised_backfill"
    )
    migration.promised_backfill(apps, None)
    case.refresh_from_db()
    assert case.status == S.PROMISED
