"""The pure working-day calendar, adjust_due_dates and the shipped notices (no database)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credo.core.holidays.calendar import (
    HOLIDAY_RULES,
    RULE_DEFER_PENALTY,
    RULE_NEXT_WORKING_DAY,
    RULE_NONE,
    WorkingCalendar,
    adjust_due_dates,
)
from credo.core.holidays.data import SOURCES, YEARS, default_days

D = dt.date
days = st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31))
calendars = st.builds(
    WorkingCalendar.of,
    st.lists(days, max_size=40),
    st.lists(days, max_size=20),
)


def shipped() -> WorkingCalendar:
    hol = [d.date for d in default_days() if d.kind == "holiday"]
    work = [d.date for d in default_days() if d.kind == "workday"]
    return WorkingCalendar.of(hol, work)


def test_plain_week():
    cal = WorkingCalendar()
    assert cal.is_working(D(2026, 12, 4))  # Friday
    assert not cal.is_working(D(2026, 12, 5))  # Saturday
    assert cal.next_working_day(D(2026, 12, 5)) == D(2026, 12, 7)
    assert cal.next_working_day(D(2026, 12, 7)) == D(2026, 12, 7)


def test_holiday_beats_weekday_and_workday_beats_weekend():
    cal = WorkingCalendar.of([D(2026, 10, 1)], [D(2026, 10, 10)])
    assert not cal.is_working(D(2026, 10, 1))  # Thursday, 国庆
    assert cal.is_working(D(2026, 10, 10))  # Saturday, 调休上班


@given(calendars, days)
def test_next_working_day_is_working_and_not_before(cal, day):
    nxt = cal.next_working_day(day)
    assert nxt >= day
    assert cal.is_working(nxt)
    # nothing in between is a working day
    d = day
    while d < nxt:
        assert not cal.is_working(d)
        d += dt.timedelta(days=1)


@given(calendars, st.lists(days, max_size=30), st.sampled_from(HOLIDAY_RULES))
def test_adjust_keeps_order_and_never_moves_back(cal, dates, rule):
    dates = sorted(dates)
    out = adjust_due_dates(dates, rule, cal)
    assert len(out) == len(dates)
    assert out == sorted(out)
    assert all(new >= old for old, new in zip(dates, out, strict=True))
    if rule == RULE_NEXT_WORKING_DAY:
        assert all(cal.is_working(d) for d in out)
    else:
        assert out == dates


def test_adjust_with_the_2026_calendar():
    cal = shipped()
    dates = [D(2026, 2, 17), D(2026, 5, 10), D(2026, 10, 10), D(2026, 10, 4), D(2027, 1, 10)]
    assert adjust_due_dates(dates, RULE_NEXT_WORKING_DAY, cal) == [
        D(2026, 2, 24),  # 春节 2/15–2/23 → Tuesday
        D(2026, 5, 11),  # Sunday → Monday
        D(2026, 10, 10),  # Saturday worked (调休上班): unchanged
        D(2026, 10, 8),  # 国庆 10/1–10/7 → Thursday
        D(2027, 1, 11),  # no 2027 data yet: weekends only
    ]
    assert adjust_due_dates(dates, RULE_DEFER_PENALTY, cal) == dates
    assert adjust_due_dates(dates, RULE_NONE, cal) == dates
    with pytest.raises(ValueError):
        adjust_due_dates(dates, "sometimes", cal)


def test_shipped_2026_notice():
    cal = shipped()
    assert cal.is_working(D(2026, 2, 14))  # Saturday 上班 before 春节
    assert cal.is_working(D(2026, 2, 28))
    assert cal.is_working(D(2026, 1, 4))  # Sunday after 元旦
    assert cal.is_working(D(2026, 5, 9))
    assert cal.is_working(D(2026, 9, 20))
    assert cal.is_working(D(2026, 10, 10))
    assert not cal.is_working(D(2026, 10, 5))  # Monday, 国庆
    assert not cal.is_working(D(2026, 2, 23))  # Monday, last day of 春节
    assert not cal.is_working(D(2026, 6, 19))  # Friday, 端午
    assert not cal.is_working(D(2026, 9, 25))  # Friday, 中秋
    assert cal.is_working(D(2026, 2, 24))
    by_kind = {"holiday": 0, "workday": 0}
    for d in default_days(2026):
        by_kind[d.kind] += 1
        assert d.source == SOURCES[2026]
    # 3 + 9 + 3 + 5 + 3 + 3 + 7 rest days; 1 + 2 + 1 + 2 working weekend days
    assert by_kind == {"holiday": 33, "workday": 6}


def test_shipped_2025_notice():
    cal = shipped()
    assert not cal.is_working(D(2025, 1, 28))  # 除夕
    assert not cal.is_working(D(2025, 2, 4))
    assert cal.is_working(D(2025, 1, 26))  # Sunday 上班
    assert cal.is_working(D(2025, 2, 8))
    assert cal.is_working(D(2025, 4, 27))
    assert not cal.is_working(D(2025, 5, 5))
    assert not cal.is_working(D(2025, 6, 2))  # 端午 Monday
    assert not cal.is_working(D(2025, 10, 8))  # 国庆中秋 8 days
    assert cal.is_working(D(2025, 9, 28))
    assert cal.is_working(D(2025, 10, 11))
    counts = {"holiday": 0, "workday": 0}
    for d in default_days(2025):
        counts[d.kind] += 1
    assert counts == {"holiday": 1 + 8 + 3 + 5 + 3 + 8, "workday": 5}


def test_shipped_workdays_are_weekends_and_dates_unique():
    all_days = list(default_days())
    assert len({d.date for d in all_days}) == len(all_days)
    for d in all_days:
        if d.kind == "workday":
            assert d.date.weekday() >= 5, d
    assert YEARS == (2025, 2026)
