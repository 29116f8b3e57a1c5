"""The pure working-day calendar used by schedules, the close of business and replay.

:class:`WorkingCalendar` and :func:`adjust_due_dates` need no database; :func:`load_calendar`
builds the lender's calendar from the ``Holiday`` table (:mod:`credo.core.holidays.services`)
and keeps it per process until the holiday data changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Per-product handling of a due date that falls on a rest day (``ProductVersion.holiday_rule``,
#: copied to ``Loan.holiday_rule``).
RULE_NONE = "none"  # 不调整: the due date stays, penalty from the day after it
RULE_NEXT_WORKING_DAY = "next_working_day"  # 顺延至下一工作日: the due date itself moves
RULE_DEFER_PENALTY = (
    "defer_penalty"  # 节假日顺延: due date stays, no penalty before next working day
)
HOLIDAY_RULES = (RULE_NONE, RULE_NEXT_WORKING_DAY, RULE_DEFER_PENALTY)
DEFAULT_HOLIDAY_RULE = RULE_DEFER_PENALTY


@dataclass(frozen=True)
class WorkingCalendar:
    """Saturdays and Sundays are rest days unless listed in ``workdays`` (调休上班);
    ``holidays`` are rest days whatever the weekday (法定节假日及调休放假)."""

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = ()
    ) -> WorkingCalendar:
        return cls(frozenset(holidays), frozenset(workdays))

    def is_working(self, day: dt.date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a working day, else the first working day after it."""
        for _ in range(366):
            if self.is_working(day):
                return day
            day += dt.timedelta(days=1)
        raise ValueError("no working day within a year")


def adjust_due_dates(
    dates: Sequence[dt.date], rule: str, calendar: WorkingCalendar
) -> list[dt.date]:
    """The installment due dates under a product's holiday rule.

    Only ``next_working_day`` moves dates (each to the next working day); ``none`` and
    ``defer_penalty`` keep them (the latter is applied by the penalty calculation). A date
    never moves backwards and the order of the dates is kept (a monotone map of sorted dates).
    """
    if rule not in HOLIDAY_RULES:
        raise ValueError(f"unknown holiday rule {rule!r}")
    if rule != RULE_NEXT_WORKING_DAY:
        return list(dates)
    return [calendar.next_working_day(d) for d in dates]


# --- the lender's calendar, cached per process -----------------------------------------------
_cached: dict[str, Any] = {}


def load_calendar() -> WorkingCalendar:
    """The lender's calendar from the database (weekends plus the ``Holiday`` rows).

    Cached per process with the data's version token (replaced in the same transaction as every
    change of the holiday table), so the close of business and replays may call it for every
    loan: a hit costs one token read, a change is seen by every process at once."""
    from credo.core.holidays import services

    token = services.calendar_token()
    hit = _cached.get("calendar")
    if hit is not None and hit[0] == token:
        calendar: WorkingCalendar = hit[1]
        return calendar
    calendar = services.build_calendar()
    _cached["calendar"] = (token, calendar)
    return calendar


def forget_calendar() -> None:
    """Drop this process's cached calendar (the next :func:`load_calendar` reads the table)."""
    _cached.clear()
