"""credo.core.fsm with a throw-away machine on a test model (ScopedRecord.name as the state)."""

from __future__ import annotations

import pytest
from django.db import models

from credo.core import fsm
from credo.core.audit.models import AuditEntry
from tests.testapp.models import ScopedRecord

pytestmark = pytest.mark.django_db


class Light(models.TextChoices):
    RED = "red", "红灯"
    GREEN = "green", "绿灯"
    AMBER = "amber", "黄灯"
    OFF = "off", "关闭"


@pytest.fixture
def machine():
    m = fsm.machine(
        ScopedRecord,
        {
            Light.RED: {Light.GREEN, Light.OFF},
            Light.GREEN: {Light.AMBER, Light.OFF},
            Light.AMBER: {Light.RED, Light.OFF},
        },
        initial={Light.RED},
        field="name",
        choices=Light,
        note="a traffic light",
    )
    yield m
    fsm.machines.unregister(m.key)


def test_machine_describes_its_table(machine):
    assert machine.key == "testapp.ScopedRecord.name"
    assert fsm.machine_for(ScopedRecord, "name") is machine
    assert fsm.machine_for(ScopedRecord(name="red"), "name") is machine
    assert machine.states == {"red", "green", "amber", "off"}
    assert machine.final_states() == ["off"]
    assert machine.sources_of("off") == ["amber", "green", "red"]
    assert machine.targets("off") == frozenset()
    assert machine.can("red", "green") and not machine.can("green", "red")
    assert ("amber", "red") in machine.pairs() and len(machine.pairs()) == 6
    assert machine.label_of("amber") == "黄灯"
    assert machine.label_of("unknown") == "unknown"
    rows = {r["state"]: r for r in fsm.describe(machine)}
    assert rows["red"] == {
        "state": "red",
        "label": "红灯",
        "initial": True,
        "targets": ["绿灯", "关闭"],
    }
    assert rows["off"]["targets"] == [] and not rows["off"]["initial"]


def test_states_must_exist_in_choices():
    with pytest.raises(ValueError, match="blue"):
        fsm.Machine(
            model=ScopedRecord,
            table={"red": frozenset({"blue"})},
            initial=frozenset({"red"}),
            field="name",
            choices=Light,
        )


def test_transition_saves_and_returns_the_previous_state(machine):
    rec = ScopedRecord.objects.create(name=Light.RED)
    assert fsm.transition(rec, Light.GREEN, field="name") == "red"
    rec.refresh_from_db()
    assert rec.name == "green"


def test_transition_refused_leaves_the_row_alone(machine):
    rec = ScopedRecord.objects.create(name=Light.GREEN)
    with pytest.raises(fsm.TransitionRefused) as exc:
        fsm.transition(rec, Light.RED, field="name")
    assert "绿灯" in str(exc.value) and "红灯" in str(exc.value)
    assert (exc.value.source, exc.value.target) == ("green", "red")
    rec.refresh_from_db()
    assert rec.name == "green"


def test_same_state_is_refused_unless_allowed(machine):
    rec = ScopedRecord.objects.create(name=Light.RED)
    with pytest.raises(fsm.TransitionRefused):
        fsm.transition(rec, Light.RED, field="name")
    assert fsm.transition(rec, Light.RED, field="name", allow_same=True) == "red"


def test_transition_without_save_and_with_audit(machine):
    rec = ScopedRecord.objects.create(name=Light.RED)
    fsm.transition(rec, Light.GREEN, field="name", save=False)
    assert rec.name == "green"
    rec.refresh_from_db()
    assert rec.name == "red"  # not saved

    fsm.transition(rec, Light.OFF, field="name", action="light.off", metadata={"why": "night"})
    entry = AuditEntry.objects.filter(action="light.off").get()
    assert entry.changes == {"name": {"old": "red", "new": "off"}}
    assert entry.metadata == {"why": "night"}
    assert entry.object_id == str(rec.pk)


def test_transition_saves_the_other_fields_of_the_step(machine, django_assert_num_queries):
    rec = ScopedRecord.objects.create(name=Light.RED)
    rec.owner = None
    with django_assert_num_queries(1):
        fsm.transition(rec, Light.GREEN, field="name", update_fields=["owner"])


def test_transition_queryset_only_touches_allowed_sources(machine):
    red = ScopedRecord.objects.create(name=Light.RED)
    green = ScopedRecord.objects.create(name=Light.GREEN)
    amber = ScopedRecord.objects.create(name=Light.AMBER)
    off = ScopedRecord.objects.create(name=Light.OFF)
    # → red is allowed only from amber
    assert fsm.transition_queryset(ScopedRecord.objects.all(), Light.RED, field="name") == 1
    amber.refresh_from_db()
    assert amber.name == "red"
    for rec, name in ((red, "red"), (green, "green"), (off, "off")):
        rec.refresh_from_db()
        assert rec.name == name


def test_transition_queryset_narrowed_sources_and_other_columns(machine):
    red = ScopedRecord.objects.create(name=Light.RED)
    green = ScopedRecord.objects.create(name=Light.GREEN)
    n = fsm.transition_queryset(
        ScopedRecord.objects.all(), Light.OFF, field="name", sources=[Light.GREEN], owner=None
    )
    assert n == 1
    red.refresh_from_db()
    green.refresh_from_db()
    assert (red.name, green.name) == ("red", "off")
    with pytest.raises(fsm.TransitionRefused):  # a source the table does not allow
        fsm.transition_queryset(
            ScopedRecord.objects.all(), Light.RED, field="name", sources=[Light.GREEN]
        )
    # nothing may reach a state without sources: no query, nothing changed
    assert fsm.transition_queryset(ScopedRecord.objects.all(), "nowhere", field="name") == 0
