"""``loan_replayed``: listeners called after the commit of a replay that changed a loan.

A listener gets ``(loan_id, before, after)`` — the summaries of
:meth:`credo.lending.replay.engine.ReplayResult.summary` before and after (``status``, ``dpd``,
``classification``, ``credit_balance``, ``outstanding_principal``, ``penalty_due``, …). It runs
outside the replay's transaction; its failure is logged and never undoes the replay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from credo.core.registry import Registry, callable_key

log = logging.getLogger(__name__)

ReplayListener = Callable[[int, Mapping[str, Any], Mapping[str, Any]], None]

loan_replayed: Registry[ReplayListener] = Registry("loan replayed", on_duplicate="replace")


def on_loan_replayed(fn: ReplayListener) -> ReplayListener:
    """Register ``fn`` (decorator)."""
    loan_replayed.register(callable_key(fn), fn)
    return fn


def notify_replayed(loan_id: int, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    for fn in list(loan_replayed):
        try:
            fn(loan_id, before, after)
        except Exception:  # noqa: BLE001 — a listener never undoes the replay
            log.exception("loan_replayed listener %s failed for loan %s", fn, loan_id)
