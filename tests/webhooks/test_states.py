"""The delivery state machine, listed literally."""

from __future__ import annotations

import pytest

from credo.core import fsm
from credo.webhooks.models import WebhookDelivery

S = WebhookDelivery.Status
TABLE = {
    S.PENDING: {S.SENDING},
    S.FAILED: {S.SENDING},
    S.SENDING: {S.SUCCEEDED, S.FAILED, S.DEAD, S.PENDING},
    S.SUCCEEDED: set(),
    S.DEAD: set(),
}
MACHINE = fsm.machine_for(WebhookDelivery)


def test_the_table_is_exactly_this():
    assert {s: set(t) for s, t in MACHINE.table.items()} == {
        str(k): {str(x) for x in v} for k, v in TABLE.items()
    }
    assert MACHINE.initial == {S.PENDING}


@pytest.mark.parametrize("source", list(S.values))
@pytest.mark.parametrize("target", list(S.values))
def test_every_pair(source, target):
    allowed = target in TABLE[S(source)]
    if allowed:
        MACHINE.check(source, target)
    else:
        with pytest.raises(fsm.TransitionRefused):
            MACHINE.check(source, target)
