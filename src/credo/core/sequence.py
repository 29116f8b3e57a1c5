"""Business numbers (贷款编号, 申请编号, 合同编号 …) from one locked counter per name and period.

``next_value("loan", "20261203")`` increments the counter row in one statement
(``UPDATE … SET last = last + 1 RETURNING last``): the row stays locked until the caller's
transaction ends, so concurrent creations queue instead of reading the same maximum and
colliding on the unique number. The first use of a period creates its row, seeded from the
numbers already in the table (``seed``) so an existing book continues where it stopped.
Call inside the transaction that inserts the numbered row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Max

from credo.core.models import BusinessSequence

_TABLE = BusinessSequence._meta.db_table


def _bump(name: str, period: str) -> int | None:
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {_TABLE} SET last = last + 1 WHERE name = %s AND period = %s "  # noqa: S608
            "RETURNING last",
            [name, period],
        )
        row = cur.fetchone()
    return int(row[0]) if row else None


def next_value(name: str, period: str = "", *, seed: Callable[[], int] | None = None) -> int:
    """The next value of counter (name, period); ``seed()`` gives the last value already used
    when the counter row does not exist yet (default 0)."""
    value = _bump(name, period)
    if value is not None:
        return value
    start = int(seed()) if seed else 0
    try:
        with transaction.atomic():
            BusinessSequence.objects.create(name=name, period=period, last=start)
    except IntegrityError:  # another transaction created it first; its row lock orders us
        pass
    value = _bump(name, period)
    assert value is not None
    return value


def daily_number(
    name: str,
    prefix: str,
    *,
    day: dt.date,
    width: int = 4,
    numbered: type[models.Model] | None = None,
    existing_max: Callable[[str], str | None] | None = None,
) -> str:
    """``<prefix><yyyymmdd><seq:0width>``, e.g. ``L202612030001``. A new day's counter is seeded
    from the largest ``number`` of model ``numbered`` with that stem (an existing book continues
    its sequence), or from ``existing_max(stem)`` when given."""
    stem = f"{prefix}{day:%Y%m%d}"
    if existing_max is None and numbered is not None:
        manager = numbered._default_manager

        def existing_max(stem: str) -> str | None:
            found = manager.filter(number__startswith=stem).aggregate(m=Max("number"))["m"]
            return str(found) if found else None

    def seed() -> int:
        last = existing_max(stem) if existing_max else None
        if not last:
            return 0
        try:
            return int(last[len(stem) :])
        except ValueError:
            return 0

    return f"{stem}{next_value(name, f'{day:%Y%m%d}', seed=seed):0{width}d}"
