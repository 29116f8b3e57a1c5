"""Cron expressions (5 fields, server time zone) via croniter."""

from __future__ import annotations

from datetime import datetime

from croniter import croniter
from django.utils import timezone
from django.utils.translation import gettext as _


def cron_error(expr: str) -> str | None:
    """A Chinese error message, or None if ``expr`` is a valid 5-field cron expression."""
    expr = (expr or "").strip()
    if len(expr.split()) != 5:
        return _("Cron 表达式必须是 5 段：分 时 日 月 周，例如 “10 3 * * *”")
    if not croniter.is_valid(expr):
        return _("Cron 表达式无效：%(expr)s") % {"expr": expr}
    return None


def latest_slot(expr: str, now: datetime) -> datetime:
    """The most recent slot at or before ``now`` (aware, in the current time zone)."""
    local = timezone.localtime(now).replace(microsecond=0)
    itr = croniter(expr, local)
    if croniter.match(expr, local) and local.second == 0:
        return local
    prev: datetime = itr.get_prev(datetime)
    return prev


def next_slot(expr: str, after: datetime) -> datetime:
    nxt: datetime = croniter(expr, timezone.localtime(after)).get_next(datetime)
    return nxt
