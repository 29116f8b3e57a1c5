"""The collection case state machine: ONE transition table, used by every service that changes
``CollectionCase.status`` (guards come from the table; docs/collections.md shows it).

A case's status mixes two things: where the strategy put it (its tier: 催收中 / 已升级 / 法务处理)
and whether the borrower has a pending promise to pay (已承诺). A promise can be recorded in
every open state; while it is pending the case stays 已承诺 even if the nightly batch moves its
tier (the tier column records the escalation). When the last pending promise is resolved (kept
or broken) the case returns to the state its *current* tier gives — the state before the
promise, or the one it escalated to meanwhile. 已结案 is final: a loan that falls overdue again
gets a new case (one non-closed case per loan), so there is no reopen.

The event table below is the business view (which event may happen in which state); the
status machine registered with :mod:`credo.core.fsm` (:data:`CASE_MACHINE`) is derived from it
(every status an event can lead to, minus staying put) and guards every write of the column.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credo.collections.errors import InvalidState
from credo.collections.models import CollectionCase, PromiseToPay, Tier
from credo.core import fsm

Status = CollectionCase.Status


class Event(models.TextChoices):
    PROMISE = "promise", _("登记承诺还款")
    PROMISE_KEPT = "promise_kept", _("承诺履约")
    PROMISE_BROKEN = "promise_broken", _("承诺违约")
    ESCALATE = "escalate", _("升级到高级催收")
    LEGAL = "legal", _("转法务/委外")
    DEESCALATE = "deescalate", _("回到初级阶段")
    CLOSE = "close", _("结案")
    REOPEN = "reopen", _("重新打开")


_TIER_STATES = frozenset({Status.OPEN, Status.ESCALATED, Status.LEGAL})

# status → event → allowed next statuses. A missing event = refused (InvalidState).
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    Status.OPEN: {
        Event.PROMISE: frozenset({Status.PROMISED}),
        Event.PROMISE_KEPT: frozenset({Status.OPEN}),
        Event.PROMISE_BROKEN: frozenset({Status.OPEN}),
        Event.ESCALATE: frozenset({Status.ESCALATED}),
        Event.LEGAL: frozenset({Status.LEGAL}),
        Event.DEESCALATE: frozenset({Status.OPEN}),
        Event.CLOSE: frozenset({Status.CLOSED}),
    },
    Status.PROMISED: {
        Event.PROMISE: frozenset({Status.PROMISED}),
        # back to the tier's state; stays 已承诺 while another promise is pending
        Event.PROMISE_KEPT: _TIER_STATES | {Status.PROMISED},
        Event.PROMISE_BROKEN: _TIER_STATES | {Status.PROMISED},
        Event.ESCALATE: frozenset({Status.PROMISED}),
        Event.LEGAL: frozenset({Status.PROMISED}),
        Event.DEESCALATE: frozenset({Status.PROMISED}),
        Event.CLOSE: frozenset({Status.CLOSED}),
    },
    Status.ESCALATED: {
        Event.PROMISE: frozenset({Status.PROMISED}),
        Event.PROMISE_KEPT: frozenset({Status.ESCALATED}),
        Event.PROMISE_BROKEN: frozenset({Status.ESCALATED}),
        Event.ESCALATE: frozenset({Status.ESCALATED}),
        Event.LEGAL: frozenset({Status.LEGAL}),
        Event.DEESCALATE: frozenset({Status.OPEN}),
        Event.CLOSE: frozenset({Status.CLOSED}),
    },
    Status.LEGAL: {
        Event.PROMISE: frozenset({Status.PROMISED}),
        Event.PROMISE_KEPT: frozenset({Status.LEGAL}),
        Event.PROMISE_BROKEN: frozenset({Status.LEGAL}),
        Event.ESCALATE: frozenset({Status.ESCALATED}),
        Event.LEGAL: frozenset({Status.LEGAL}),
        Event.DEESCALATE: frozenset({Status.OPEN}),
        Event.CLOSE: frozenset({Status.CLOSED}),
    },
    Status.CLOSED: {},
}


def tier_event(tier: str) -> Event:
    """The event of a case entering ``tier`` (the nightly strategy)."""
    if tier == Tier.LEGAL:
        return Event.LEGAL
    if tier == Tier.SENIOR_LETTER:
        return Event.ESCALATE
    return Event.DEESCALATE


def tier_status(tier: str) -> str:
    """The state a case without a pending promise has in ``tier``."""
    return next_status(Status.OPEN, tier_event(tier))


def allowed(status: str, event: str) -> frozenset[str]:
    return TRANSITIONS.get(status, {}).get(event, frozenset())


def can(status: str, event: str) -> bool:
    return bool(allowed(status, event))


def sources(event: str) -> list[str]:
    """The statuses from which ``event`` is allowed (for set-based UPDATE … WHERE status IN)."""
    return [s for s in Status.values if can(s, event)]


def next_status(status: str, event: str, *, tier: str = "", promises_pending: int = 0) -> str:
    """The status after ``event``; raises InvalidState when the table refuses it.

    Where the table allows several targets (resolving a promise of a 已承诺 case), the case stays
    已承诺 while ``promises_pending`` > 0, otherwise it takes its tier's state."""
    targets = allowed(status, event)
    if not targets:
        raise InvalidState(
            gettext("案件状态为“%(s)s”，不能%(e)s。")
            % {"s": Status(status).label, "e": Event(event).label}
        )
    if len(targets) == 1:
        return next(iter(targets))
    target = Status.PROMISED if promises_pending else tier_status(tier)
    if target not in targets:  # pragma: no cover - the table and this rule disagree
        raise InvalidState(gettext("案件状态变更不被允许。"))
    return target


def _derived_table() -> dict[str, frozenset[str]]:
    """source → targets of the status column: every status any event leads to, minus itself."""
    return {
        source: frozenset(t for targets in events.values() for t in targets if t != source)
        for source, events in TRANSITIONS.items()
    }


CASE_MACHINE = fsm.machine(
    CollectionCase,
    _derived_table(),
    initial=_TIER_STATES,
    choices=Status,
    note="collections: derived from the event table TRANSITIONS (states.py)",
)

PromiseStatus = PromiseToPay.Status

PROMISE_MACHINE = fsm.machine(
    PromiseToPay,
    {
        PromiseStatus.PENDING: {PromiseStatus.KEPT, PromiseStatus.BROKEN},
        PromiseStatus.KEPT: set(),
        PromiseStatus.BROKEN: set(),
    },
    initial={PromiseStatus.PENDING},
    choices=PromiseStatus,
    note="collections: a promise to pay is resolved once (kept / broken) by the nightly check",
)
