"""Repricing dates of floating-rate loans — pure Python, no Django."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from credo.lending.schedule import add_months

REPRICING = ("annual_jan1", "anniversary", "monthly")


def floating_rate(lpr: Decimal, spread_bp: int) -> Decimal:
    """LPR (percent) + spread (basis points) as an annual percentage rate, never below 0."""
    return max(Decimal(lpr) + Decimal(spread_bp) / 100, Decimal(0))


def is_repricing_date(repricing: str, start: dt.date, day: dt.date) -> bool:
    """``day`` is a repricing date of a loan started on ``start`` (never the start itself)."""
    if day <= start:
        return False
    if repricing == "annual_jan1":
        return day.month == 1 and day.day == 1
    months = (day.year - start.year) * 12 + day.month - start.month
    if repricing == "anniversary" and months % 12:
        return False
    if repricing not in ("anniversary", "monthly"):
        raise ValueError(f"unknown repricing {repricing!r}")
    return months > 0 and add_months(start, months) == day


def next_repricing_date(repricing: str, start: dt.date, after: dt.date) -> dt.date:
    """The first repricing date strictly after ``after`` (for display)."""
    after = max(after, start)
    if repricing == "annual_jan1":
        return dt.date(after.year + 1, 1, 1)
    step = 12 if repricing == "anniversary" else 1
    k = step
    while add_months(start, k) <= after:
        k += step
    return add_months(start, k)
