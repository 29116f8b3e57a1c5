"""China's statutory holidays (法定节假日) and adjusted working days (调休上班) as published by
the General Office of the State Council (国务院办公厅) each autumn for the next year.

* 2025: 《国务院办公厅关于2025年部分节假日安排的通知》（国办发明电〔2024〕12号）, the first year
  under the amended 《全国年节及纪念日放假办法》（国务院令第795号: 除夕 and 5月2日 added).
* 2026: 《国务院办公厅关于2026年部分节假日安排的通知》（国办发明电〔2025〕7号）.

The lender adds the next year through the 节假日 page (Excel import) when the notice is out.
Pure data: no Django.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import NamedTuple

HOLIDAY = "holiday"
WORKDAY = "workday"


class DefaultDay(NamedTuple):
    date: dt.date
    kind: str  # "holiday" (放假) | "workday" (调休上班)
    name: str
    source: str


SOURCES = {
    2025: "国办发明电〔2024〕12号",
    2026: "国办发明电〔2025〕7号",
}

# year → [(festival, first rest day, last rest day, [working weekend days])]
_NOTICES: dict[int, list[tuple[str, str, str, list[str]]]] = {
    2025: [
        ("元旦", "2025-01-01", "2025-01-01", []),
        ("春节", "2025-01-28", "2025-02-04", ["2025-01-26", "2025-02-08"]),
        ("清明节", "2025-04-04", "2025-04-06", []),
        ("劳动节", "2025-05-01", "2025-05-05", ["2025-04-27"]),
        ("端午节", "2025-05-31", "2025-06-02", []),
        ("国庆节、中秋节", "2025-10-01", "2025-10-08", ["2025-09-28", "2025-10-11"]),
    ],
    2026: [
        ("元旦", "2026-01-01", "2026-01-03", ["2026-01-04"]),
        ("春节", "2026-02-15", "2026-02-23", ["2026-02-14", "2026-02-28"]),
        ("清明节", "2026-04-04", "2026-04-06", []),
        ("劳动节", "2026-05-01", "2026-05-05", ["2026-05-09"]),
        ("端午节", "2026-06-19", "2026-06-21", []),
        ("中秋节", "2026-09-25", "2026-09-27", []),
        ("国庆节", "2026-10-01", "2026-10-07", ["2026-09-20", "2026-10-10"]),
    ],
}

YEARS: tuple[int, ...] = tuple(sorted(_NOTICES))


def default_days(year: int | None = None) -> Iterator[DefaultDay]:
    """The shipped days of ``year`` (every shipped year when None), in date order."""
    days: list[DefaultDay] = []
    for y in YEARS if year is None else (year,):
        source = SOURCES.get(y, "")
        for name, first, last, workdays in _NOTICES.get(y, []):
            day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
            while day <= end:
                days.append(DefaultDay(day, HOLIDAY, name, source))
                day += dt.timedelta(days=1)
            for w in workdays:
                days.append(DefaultDay(dt.date.fromisoformat(w), WORKDAY, name, source))
    return iter(sorted(days))
