"""The pure working-day calendar used by schedules, the close of business and replay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field


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


def load_calendar() -> WorkingCalendar:
    """The lender's calendar from the database (placeholder until the holiday table lands:
    weekends only)."""
    return WorkingCalendar()
