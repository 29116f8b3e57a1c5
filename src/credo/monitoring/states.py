"""State machines of monitoring: an alert's handling and a retention suggestion's decision.

An alert is created 待处理 by the nightly batch. Handling moves it forward: 确认 (only from
待处理), a handling action (联系客户 / 追加担保 / 调整或冻结额度) makes it 处理中, 升级 hands it
to management from any open state (again from 已升级: to another head), 关闭 — by a person with
a conclusion or by the batch once the condition is gone — is final.
"""

from __future__ import annotations

from credo.core import fsm
from credo.monitoring.models import Alert, RetentionSuggestion

A = Alert.Status

ALERT_MACHINE = fsm.machine(
    Alert,
    {
        A.OPEN: {A.ACKNOWLEDGED, A.IN_PROGRESS, A.ESCALATED, A.CLOSED},
        A.ACKNOWLEDGED: {A.IN_PROGRESS, A.ESCALATED, A.CLOSED},
        A.IN_PROGRESS: {A.ESCALATED, A.CLOSED},
        A.ESCALATED: {A.CLOSED},
        A.CLOSED: set(),
    },
    initial={A.OPEN},
    choices=A,
    note="monitoring: alert handling (services.py) and the batch's auto-close (batch.py)",
)

R = RetentionSuggestion.Status

RETENTION_MACHINE = fsm.machine(
    RetentionSuggestion,
    {R.PENDING: {R.APPROVED, R.REJECTED}, R.APPROVED: set(), R.REJECTED: set()},
    initial={R.PENDING},
    choices=R,
    note="monitoring: a retention (limit increase) suggestion is decided once",
)

# Alert states a handling action (contact, guarantee, limit) moves to 处理中.
ADVANCE_FROM = (A.OPEN, A.ACKNOWLEDGED)
