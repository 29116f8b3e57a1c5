"""Pure guardrail arithmetic (no database): quiet hours and backoff.

Quiet hours are a daily window in a fixed time zone, e.g. 22:00–08:00 Asia/Shanghai; a window
whose start is after its end crosses midnight. Messages of a quiet category that fall inside
the window are deferred to its end (never dropped).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def parse_window(text: str) -> tuple[dt.time, dt.time] | None:
    """``"22:00-08:00"`` → (22:00, 08:00); empty/"off" → None (no quiet hours)."""
    text = (text or "").strip()
    if not text or text.lower() in ("off", "none", "0"):
        return None
    try:
        start_s, end_s = (part.strip() for part in text.replace("–", "-").split("-"))
        start = dt.time.fromisoformat(start_s if len(start_s) > 2 else f"{start_s}:00")
        end = dt.time.fromisoformat(end_s if len(end_s) > 2 else f"{end_s}:00")
    except ValueError as exc:
        raise ValueError(f"quiet hours must look like 22:00-08:00, got {text!r}") from exc
    if start == end:
        return None
    return start, end


def quiet_until(
    now: dt.datetime, window: tuple[dt.time, dt.time] | None, tz: str
) -> dt.datetime | None:
    """The end of the quiet window containing ``now`` (aware, in ``tz``), or None when ``now``
    is outside it. ``now`` must be timezone-aware."""
    if window is None:
        return None
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    start, end = window
    t = local.timetz().replace(tzinfo=None)
    day = local.date()
    if start < end:  # same-day window, e.g. 12:00–14:00
        if start <= t < end:
            return dt.datetime.combine(day, end, tzinfo=zone)
        return None
    # crosses midnight, e.g. 22:00–08:00
    if t >= start:
        return dt.datetime.combine(day + dt.timedelta(days=1), end, tzinfo=zone)
    if t < end:
        return dt.datetime.combine(day, end, tzinfo=zone)
    return None


def backoff_delay(attempt: int, schedule_minutes: list[int]) -> dt.timedelta:
    """Delay after the ``attempt``-th failure (1-based); past the list the last value repeats."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    if not schedule_minutes:
        return dt.timedelta(minutes=1)
    return dt.timedelta(minutes=schedule_minutes[min(attempt, len(schedule_minutes)) - 1])


#: Categories sent only with the recipient's consent (个人信息保护法 第十三条: marketing,
#: renewal invitations included, has no other legal basis). Collection and service messages rest
#: on the loan contract (第十三条第二项) and are not subject to it.
CONSENT_CATEGORIES = frozenset({"marketing"})
NO_CONSENT = "no_consent"


def consent_allows(kind: str, in_force: set[str], withdrawn: set[str], *, required: bool) -> bool:
    """Whether a consent-category message of ``kind`` may go to a recipient whose consents in
    force cover the channels ``in_force`` and whose withdrawn ones covered ``withdrawn`` (""
    = every channel). With ``required`` a consent in force is needed; without it only a
    withdrawal stops the message (a lender migrating an old book)."""
    if "" in in_force or kind in in_force:
        return True
    if required:
        return False
    return not ("" in withdrawn or kind in withdrawn)
