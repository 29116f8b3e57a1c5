"""Issue 17: the outbox message machine, written out literally; the services refuse what the
table refuses."""

from __future__ import annotations

import pytest

from credo.core import fsm
from credo.notify import services, states
from credo.notify.errors import InvalidState
from credo.notify.models import Message
from tests.fsm_tables import assert_table

S = Message.Status

ALLOWED = {
    ("queued", "sending"),
    ("queued", "cancelled"),
    ("sending", "sent"),
    ("sending", "failed"),
    ("sending", "queued"),
    ("failed", "queued"),
    ("failed", "cancelled"),
    ("cancelled", "queued"),
}


def test_message_machine():
    assert fsm.machine_for(Message) is states.MESSAGE_MACHINE
    assert_table(states.MESSAGE_MACHINE, S.values, ALLOWED)


def test_initial_and_final_states():
    m = states.MESSAGE_MACHINE
    assert m.initial == {"queued", "suppressed", "sent", "failed"}
    assert m.final_states() == ["sent", "suppressed"]


@pytest.mark.django_db
def test_sent_message_cannot_be_retried_or_cancelled(owner):
    msg = services.notify(template="notify.test", context={"name": "张三"}, user=owner)[0]
    assert msg.status == S.SENT  # in-app without a channel: sent on creation
    with pytest.raises(InvalidState):
        services.message_retry(message=msg, actor=owner)
    with pytest.raises(InvalidState):
        services.message_cancel(message=msg, actor=owner)
    with pytest.raises(fsm.TransitionRefused):
        fsm.transition(msg, S.QUEUED)
    msg.refresh_from_db()
    assert msg.status == S.SENT
