"""The state machine of an outbox message (``Message.status``).

A message is created 排队中, or already final: 已拦截 (guardrail), 已发送 (in-app without a
channel), 发送失败 (no channel configured). The sender claims a queued message (发送中) and
ends the attempt 已发送, 发送失败 (permanent error or attempts spent) or back in 排队中 (retry
with backoff, deferred by quiet hours, or released after a worker died). People retry a failed
or cancelled message (排队中 again) and cancel a queued or failed one.
"""

from __future__ import annotations

from credo.core import fsm
from credo.notify.models import Message

S = Message.Status

MESSAGE_MACHINE = fsm.machine(
    Message,
    {
        S.QUEUED: {S.SENDING, S.CANCELLED},
        S.SENDING: {S.SENT, S.FAILED, S.QUEUED},
        S.FAILED: {S.QUEUED, S.CANCELLED},
        S.CANCELLED: {S.QUEUED},
        S.SENT: set(),
        S.SUPPRESSED: set(),
    },
    initial={S.QUEUED, S.SUPPRESSED, S.SENT, S.FAILED},
    choices=S,
    note="notify: outbox (services/outbox.py) and sender (services/sending.py)",
)

# Who may be retried / cancelled by a person.
RETRYABLE = (S.FAILED, S.CANCELLED)
CANCELLABLE = (S.QUEUED, S.FAILED)
