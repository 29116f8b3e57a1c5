"""Issue 17: every model with a status or stage field has exactly one state machine."""

from __future__ import annotations

from django.apps import apps

from credo.core import fsm


def _status_fields():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.name in ("status", "stage") and field.choices:
                yield model, field


def test_every_status_field_has_a_machine():
    missing = [
        f"{model._meta.label}.{field.name}"
        for model, field in _status_fields()
        if f"{model._meta.label}.{field.name}" not in fsm.machines
    ]
    assert not missing, f"status fields without a machine in <app>/states.py: {missing}"


def test_every_machine_state_is_a_choice_and_the_default_is_initial():
    for model, field in _status_fields():
        m = fsm.machine_for(model, field.name)
        choices = {str(v) for v, _label in field.choices}
        assert m.states <= choices, m.key
        if field.has_default() and not callable(field.default):
            assert str(field.default) in m.initial, m.key
