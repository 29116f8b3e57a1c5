"""Settings of the notify app (quiet hours, daily caps, retries), read on every use."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from credo.notify import guardrails


# --- settings -----------------------------------------------------------------------------------
def quiet_window() -> tuple[dt.time, dt.time] | None:
    return guardrails.parse_window(getattr(settings, "CREDO_NOTIFY_QUIET_HOURS", "22:00-08:00"))


def quiet_tz() -> str:
    return getattr(settings, "CREDO_NOTIFY_QUIET_TIME_ZONE", "") or getattr(
        settings, "TIME_ZONE", "Asia/Shanghai"
    )


def quiet_categories() -> set[str]:
    return set(getattr(settings, "CREDO_NOTIFY_QUIET_CATEGORIES", ["marketing", "collection"]))


def daily_caps() -> dict[str, int]:
    return dict(getattr(settings, "CREDO_NOTIFY_DAILY_CAPS", {"collection": 3, "marketing": 2}))


def max_attempts() -> int:
    return int(getattr(settings, "CREDO_NOTIFY_MAX_ATTEMPTS", 5))


def backoff_minutes() -> list[int]:
    return list(getattr(settings, "CREDO_NOTIFY_BACKOFF_MINUTES", [1, 5, 25, 125]))


def simulate_fallback() -> bool:
    default = getattr(settings, "ENVIRONMENT", "production") != "production"
    return bool(getattr(settings, "CREDO_NOTIFY_SIMULATE", default))
