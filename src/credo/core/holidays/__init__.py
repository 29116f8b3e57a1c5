"""Working-day calendar (节假日/调休): China's statutory holidays and adjusted working days as
data. :class:`WorkingCalendar` is pure; :func:`load_calendar` reads the data."""

from credo.core.holidays.calendar import WorkingCalendar, load_calendar

__all__ = ["WorkingCalendar", "load_calendar"]
