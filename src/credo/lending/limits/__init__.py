"""Credit limits (授信额度): the services (:mod:`.services`) and their pages (:mod:`.views`)."""

from __future__ import annotations

from credo.lending.limits.services import (
    LimitStatus,
    check_drawdown,
    limit_freeze,
    limit_set,
    limit_status,
    used_fen,
)

__all__ = [
    "LimitStatus",
    "check_drawdown",
    "limit_freeze",
    "limit_set",
    "limit_status",
    "used_fen",
]
