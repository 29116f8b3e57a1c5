"""One health check for the load balancer (/healthz) and API clients (/api/v1/health)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import DatabaseError, connection

logger = logging.getLogger("credo.health")


@dataclass(frozen=True)
class Health:
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(value == "ok" for value in self.checks.values())


def health_check() -> Health:
    """Run every check; a failing one is reported as "unavailable" (details go to the log
    only: the endpoints are public)."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except DatabaseError:
        logger.exception("health check: database unreachable")
        checks["database"] = "unavailable"
    return Health(checks=checks)
