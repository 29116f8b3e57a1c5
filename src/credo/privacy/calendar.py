"""Working-day arithmetic for the answer period (pure: no database)."""

from __future__ import annotations

import datetime as dt

from credo.core.holidays.calendar import WorkingCalendar

#: 个人信息保护法 第四十五条 asks for a timely answer (及时) without fixing a period; Credo answers within
#: 15 working days (工作日), the period used in Chinese regulatory practice for personal-information
#: requests and complaints. ``CREDO_PRIVACY_ANSWER_WORKING_DAYS`` (a Django setting) overrides it.
ANSWER_WORKING_DAYS = 15


def add_working_days(start: dt.date, days: int, calendar: WorkingCalendar) -> dt.date:
    """The ``days``-th working day after ``start`` (the day of receipt is not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    left = days
    while left:
        day += dt.timedelta(days=1)
        if calendar.is_working(day):
            left -= 1
    return day
