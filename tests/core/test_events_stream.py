"""The business event stream (issue 23): sealed audit rows delivered to consumers in order."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from credo.core.audit.services import audit_record, audit_seal
from credo.core.events.catalogue import catalogue, event_label, register_event
from credo.core.events.models import EventCursor
from credo.core.events.stream import (
    consumers,
    events_between,
    events_dispatch,
    events_pump,
    register_consumer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen():
    got: list = []
    register_consumer("test.seen", lambda events: got.extend(events))
    yield got
    consumers.unregister("test.seen")


def _record(action: str, oid: int, **changes):
    return audit_record(
        action=action,
        object_type="test.thing",
        object_id=oid,
        object_repr=f"thing {oid}",
        changes={k: {"old": v[0], "new": v[1]} for k, v in changes.items()},
    )


def test_a_new_consumer_starts_at_the_head_then_gets_each_event_once_in_order(seen):
    _record("thing.create", 1)
    events_pump()  # first run: the cursor is created at the head, history is not delivered
    assert seen == []
    _record("thing.create", 2)
    _record("thing.update", 2, status=("draft", "active"))
    events_pump()
    assert [(e.action, e.object_id) for e in seen] == [("thing.create", "2"), ("thing.update", "2")]
    assert seen[0].seq < seen[1].seq
    assert seen[1].new_value("status") == "active" and seen[1].old_value("status") == "draft"
    assert seen[1].as_payload()["type"] == "thing.update"
    events_pump()  # nothing new: nothing delivered twice
    assert len(seen) == 2
    assert EventCursor.objects.get(name="test.seen").delivered == 2


def test_unsealed_rows_wait_for_the_sealer(seen):
    events_pump()
    _record("thing.create", 3)
    events_dispatch()  # not sealed yet: not an event yet
    assert seen == []
    audit_seal()
    events_dispatch()
    assert [e.object_id for e in seen] == ["3"]


def test_action_filter_skips_the_rest_but_moves_the_cursor():
    got: list = []
    register_consumer("test.filtered", got.extend, actions=lambda: ["thing.update"])
    try:
        events_pump()
        _record("thing.create", 4)
        _record("thing.update", 4, name=("a", "b"))
        events_pump()
        assert [e.action for e in got] == ["thing.update"]
        cursor = EventCursor.objects.get(name="test.filtered")
        assert cursor.seq == max(e.seq for e in events_between())
    finally:
        consumers.unregister("test.filtered")


def test_a_failing_consumer_keeps_its_place_and_does_not_block_others(seen):
    calls = {"n": 0}

    def boom(events):
        calls["n"] += 1
        raise RuntimeError("down")

    register_consumer("test.boom", boom)
    try:
        events_pump()
        _record("thing.create", 5)
        events_pump()
        assert [e.object_id for e in seen] == ["5"]
        cursor = EventCursor.objects.get(name="test.boom")
        assert "down" in cursor.last_error
        before = cursor.seq
        events_pump()  # retried: the batch is offered again
        assert calls["n"] == 2
        assert EventCursor.objects.get(name="test.boom").seq == before
    finally:
        consumers.unregister("test.boom")


def test_history_filters_by_action_object_and_time():
    _record("thing.create", 6)
    _record("thing.update", 6, name=("a", "b"))
    _record("thing.create", 7)
    audit_seal()
    assert [e.object_id for e in events_between(actions=["thing.create"])][-2:] == ["6", "7"]
    assert [e.action for e in events_between(object_type="test.thing", object_id="6")] == [
        "thing.create",
        "thing.update",
    ]
    assert list(events_between(after_seq=10**12)) == []


def test_catalogue_and_cli(capsys):
    register_event("thing.create", "新建测试对象", "test.thing", group="测试", fields=("name",))
    assert event_label("thing.create") == "新建测试对象"
    assert event_label("unknown.action") == "unknown.action"
    assert any(r["key"] == "thing.create" for r in catalogue())
    call_command("events", "catalogue")
    call_command("events", "status")
    call_command("events", "pump")
    assert "thing.create" in capsys.readouterr().out
