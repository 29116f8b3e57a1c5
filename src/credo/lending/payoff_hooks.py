"""Loan lifecycle hooks: ``loan_paid_off`` (a loan has just become 已结清) and
``loan_disbursed`` (放款: a loan has just become 正常/active).

The posting services (repayment, prepayment) call :func:`notify_paid_off` inside their
transaction; the listeners run after it commits, each on its own, with the loan id — a
listener's failure is logged and never undoes the payment (the collateral app opens its
解押申请 here; its after-close job catches anything missed). Payoffs produced by a replay are
reported through ``credo.lending.replay.hooks.loan_replayed`` instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

from credo.core.registry import Registry, callable_key

log = logging.getLogger(__name__)

PaidOffListener = Callable[[int], None]

loan_paid_off: Registry[PaidOffListener] = Registry("loan paid off", on_duplicate="replace")


def on_loan_paid_off(fn: PaidOffListener) -> PaidOffListener:
    """Register ``fn(loan_id)`` (decorator)."""
    loan_paid_off.register(callable_key(fn), fn)
    return fn


def _run(registry: Registry[Any], loan_id: int) -> None:
    for fn in list(registry):
        try:
            fn(loan_id)
        except Exception:  # noqa: BLE001 — a listener never undoes the payment/disbursement
            log.exception("%s listener %s failed for loan %s", registry.name, fn, loan_id)


def run_paid_off(loan_id: int) -> None:
    _run(loan_paid_off, loan_id)


def notify_paid_off(loan_id: int) -> None:
    """Call inside the transaction that moved the loan to 已结清."""
    transaction.on_commit(lambda: run_paid_off(loan_id))


DisbursedListener = Callable[[int], object]

loan_disbursed: Registry[DisbursedListener] = Registry("loan disbursed", on_duplicate="replace")


def run_disbursed(loan_id: int) -> None:
    _run(loan_disbursed, loan_id)


def notify_disbursed(loan_id: int) -> None:
    """Call inside the transaction that disbursed the loan; listeners run after it commits
    (the collateral app makes the application's 待生效 guarantees 生效中 here)."""
    transaction.on_commit(lambda: run_disbursed(loan_id))
