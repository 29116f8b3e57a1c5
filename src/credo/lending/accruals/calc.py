"""Pure accrual arithmetic (no database): the interest of an installment period earned by a
day, and the receivable a loan's installments imply.

Cumulative rounding: the interest earned by the end of day ``d`` of a period of ``n`` days is
``⌊interest × d / n⌋`` fen; a day's accrual is the difference of two consecutive cumulative
figures. The days' amounts are whole fen, never negative, and add up to exactly the
installment's scheduled interest on its due date (day ``n``: ``⌊interest × n / n⌋``) — no
rounding drift, whatever the number of days. The close of business computes the same formula
in SQL (:mod:`credo.lending.accruals.services`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def cumulative(interest: int, start: dt.date, due: dt.date, day: dt.date) -> int:
    """Interest of the period ``(start, due]`` earned by the end of ``day`` (fen)."""
    n = (due - start).days
    if n <= 0 or day >= due:
        return interest
    elapsed = (day - start).days
    if elapsed <= 0:
        return 0
    return interest * elapsed // n


def daily_amounts(interest: int, start: dt.date, due: dt.date) -> list[int]:
    """The period's accrual per day, from the day after ``start`` to ``due`` inclusive."""
    days = max((due - start).days, 1)
    out, before = [], 0
    for k in range(1, days + 1):
        now = cumulative(interest, start, due, start + dt.timedelta(days=k))
        out.append(now - before)
        before = now
    return out


@dataclass(frozen=True)
class Inst:
    """What the target receivable needs of one installment (fen)."""

    due_date: dt.date
    interest_due: int
    interest_paid: int
    penalty_due: int = 0  # 罚息 + 复利 charged so far
    penalty_paid: int = 0
    paid_on: dt.date | None = None  # fully paid on (None: not yet)


def crossed_threshold(insts: Sequence[Inst], threshold: int, as_of: dt.date) -> bool:
    """Whether a close of business up to ``as_of`` saw one of these installments unpaid more
    than ``threshold`` days after its due date (the loan moved to non-accrual)."""
    for inst in insts:
        day = inst.due_date + dt.timedelta(days=threshold + 1)
        if day <= as_of and (inst.paid_on is None or inst.paid_on > day):
            return True
    return False


def periods(start: dt.date, insts: Sequence[Inst]) -> Iterable[tuple[dt.date, Inst]]:
    """Each installment with the start of its period (previous due date or the value date)."""
    prev = start
    for inst in sorted(insts, key=lambda i: i.due_date):
        yield prev, inst
        prev = inst.due_date


def earned_unpaid(start: dt.date, insts: Sequence[Inst], as_of: dt.date) -> tuple[int, int]:
    """(interest, 罚息) earned by the end of ``as_of`` and not yet paid. On the accrual basis
    this is the loan's receivable plus its off-balance interest (表外)."""
    interest = penalty = 0
    for begin, inst in periods(start, insts):
        earned = cumulative(inst.interest_due, begin, inst.due_date, as_of)
        interest += max(earned - inst.interest_paid, 0)
        penalty += max(inst.penalty_due - inst.penalty_paid, 0)
    return interest, penalty


def split_receipt(amount: int, receivable: int) -> tuple[int, int]:
    """Interest received: (the part settling the receivable, the part not yet accrued)."""
    settle = min(max(amount, 0), max(receivable, 0))
    return settle, amount - settle
