"""Shared check for the state-machine tests (tests/<app>/test_states.py): each app lists its
table literally; this walks every (source, target) pair of the model's states."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pytest

from credo.core import fsm


def assert_table(machine: fsm.Machine, states: Iterable[str], allowed: Iterable[tuple[str, str]]):
    """``machine`` allows exactly ``allowed`` among ``states`` × ``states`` and refuses every
    other pair with :class:`fsm.TransitionRefused`."""
    allowed = {(str(s), str(t)) for s, t in allowed}
    states = [str(s) for s in states]
    assert set(machine.pairs()) == allowed
    for source, target in itertools.product(states, repeat=2):
        assert machine.can(source, target) == ((source, target) in allowed), (source, target)
        if (source, target) not in allowed:
            with pytest.raises(fsm.TransitionRefused):
                machine.check(source, target)
