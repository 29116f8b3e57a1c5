"""The business clock: today's date as the lender's books see it.

In production this is the local calendar date. Outside production an evaluator can move the
demo forward (``credo demo advance --days N``): the offset in days is kept in a small file in
``CREDO_DATA_DIR`` so the web server, the worker and the scheduler of one demo all see the
same business date. Production never reads the file.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from django.conf import settings
from django.utils import timezone

_cache: dict[str, tuple[float, int]] = {}


def _path() -> Path:
    return Path(settings.DATA_DIR) / "demo-clock"


def offset_days() -> int:
    """Days the demo clock runs ahead of the calendar (always 0 in production)."""
    if getattr(settings, "ENVIRONMENT", "production") == "production":
        return 0
    path = _path()
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return 0
    key = str(path)
    hit = _cache.get(key)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    try:
        value = int(path.read_text(encoding="utf-8").strip() or "0")
    except (OSError, ValueError):
        value = 0
    _cache[key] = (mtime, value)
    return value


def set_offset_days(days: int) -> None:
    """Set the demo clock's offset (refused in production)."""
    if getattr(settings, "ENVIRONMENT", "production") == "production":
        raise RuntimeError("The demo clock cannot be moved in production.")
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(int(days)), encoding="utf-8")
    os.replace(tmp, path)
    _cache.pop(str(path), None)


def today() -> dt.date:
    """The business date today: the local date plus the demo offset (0 in production)."""
    return timezone.localdate() + dt.timedelta(days=offset_days())


def now() -> dt.datetime:
    """The current moment on the business clock (the demo offset added)."""
    return timezone.now() + dt.timedelta(days=offset_days())
