"""The month-end provision schedule (imported by :mod:`credo.lending.schedules`): fires on
the 1st–5th at 06:00, disabled until finance enables it and sets ``username``."""

from credo.core.scheduling.registry import register_schedule

register_schedule(
    "lending.provisions_month_end",
    "credo.lending.provisions.tasks.provisions_month_end",
    "0 6 1-5 * *",
    kwargs={"username": ""},
    enabled=False,
)
