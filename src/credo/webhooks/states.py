"""The state machine of a webhook delivery (``WebhookDelivery.status``).

A delivery is created 待发送. The sender claims it (发送中) and ends the attempt 成功, 失败待重试
(a retry is scheduled with back-off) or 已放弃 (attempts spent). A worker that died mid-send
leaves it 发送中; the sweep puts it back to 待发送. Manual redelivery creates a new delivery.
"""

from __future__ import annotations

from credo.core import fsm
from credo.webhooks.models import WebhookDelivery

S = WebhookDelivery.Status

DELIVERY_MACHINE = fsm.machine(
    WebhookDelivery,
    {
        S.PENDING: {S.SENDING},
        S.FAILED: {S.SENDING},
        S.SENDING: {S.SUCCEEDED, S.FAILED, S.DEAD, S.PENDING},
        S.SUCCEEDED: set(),
        S.DEAD: set(),
    },
    initial={S.PENDING},
    choices=S,
    note="webhooks: sender (services.py); redelivery creates a new delivery",
)
