"""The close of business's shared vocabulary: counts, the 五级分类 thresholds, its errors and the
listeners told when a business date's run is done."""

from __future__ import annotations

import os
from collections.abc import Callable

from credo.core.registry import Registry
from credo.lending.errors import LendingError
from credo.lending.models import EodRun, Installment, Loan

UNPAID_DUE = (Installment.Status.DUE, Installment.Status.OVERDUE)
CLASSIFICATION_ENV = "CREDO_CLASSIFICATION_DPD"
CLASSIFICATION_DEFAULT = "1,91,181,361"
COUNT_KEYS = (
    "loans",
    "installments_due",
    "installments_overdue",
    "became_overdue",
    "cured",
    "penalty_fen",
    "credit_applied_fen",
    "classification_changes",
    "paid_off",
)

DoneListener = Callable[[EodRun], None]
# keyed by the listener's identity: registering the same function twice is a no-op
done_listeners: Registry[DoneListener] = Registry("EOD done listeners", on_duplicate="keep")


class EodError(LendingError):
    code = "eod_error"


def _key(fn: DoneListener) -> str:
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', fn)}#{id(fn)}"


def register_eod_done_listener(fn: DoneListener) -> DoneListener:
    """``fn(run)`` once a business date's run is DONE (after its last chunk commits): the hook for
    the nightly monitoring and collections batches that must see the day's DPD. Exceptions
    propagate to the worker that finished the run (the run itself stays DONE)."""
    done_listeners.register(_key(fn), fn)
    return fn


def unregister_eod_done_listener(fn: DoneListener) -> None:
    done_listeners.unregister(_key(fn))


def emit_done(run: EodRun) -> None:
    for fn in done_listeners:
        fn(run)


def classification_thresholds() -> tuple[int, int, int, int]:
    """DPD from which a loan is 关注 / 次级 / 可疑 / 损失 (env ``CREDO_CLASSIFICATION_DPD``)."""
    raw = os.environ.get(CLASSIFICATION_ENV, "").strip() or CLASSIFICATION_DEFAULT
    try:
        values = tuple(int(p) for p in raw.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not 0 < values[0] < values[1] < values[2] < values[3]:
        raise EodError(
            f"{CLASSIFICATION_ENV}={raw!r} 格式错误：应为 4 个递增的正整数（关注、次级、可疑、"
            f"损失的起始逾期天数），例如 {CLASSIFICATION_DEFAULT}"
        )
    return values  # type: ignore[return-value]


def classify(dpd: int, thresholds: tuple[int, int, int, int] | None = None) -> str:
    t = thresholds or classification_thresholds()
    levels = (
        Loan.Classification.SPECIAL_MENTION,
        Loan.Classification.SUBSTANDARD,
        Loan.Classification.DOUBTFUL,
        Loan.Classification.LOSS,
    )
    result: str = Loan.Classification.NORMAL
    for threshold, level in zip(t, levels, strict=True):
        if dpd >= threshold:
            result = level
    return result


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)
