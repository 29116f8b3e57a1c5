"""Health checks: liveness (``/healthz``, ``/api/v1/health``) and readiness (``/readyz``).

* **Liveness** answers "is this process able to serve?": one trivial query. A load balancer
  routes on it.
* **Readiness** answers "is the whole installation working?": database, no unapplied
  migrations, the task queue reachable, the scheduler alive (heartbeat age) and the last close
  of business. Monitoring polls it; it answers 503 when any of the first four fails.

Both endpoints are public: they report states ("ok", "unavailable", ages, dates), never
connection strings, host names or error texts (those go to the log).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

logger = logging.getLogger("credo.health")

OK, UNAVAILABLE = "ok", "unavailable"
#: WorkerLease rows of schedulers (``credo scheduler`` beats through
#: :func:`record_scheduler_heartbeat`); worker ids never start with it (``host:pid:random``).
SCHEDULER_PREFIX = "scheduler@"


@dataclass(frozen=True)
class Health:
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(value == OK for value in self.checks.values())


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: database unreachable")
        return UNAVAILABLE
    return OK


def health_check() -> Health:
    """Liveness: the database answers. A failing check is reported as "unavailable" (details
    go to the log only: the endpoints are public)."""
    return Health(checks={"database": _database()})


# --- readiness ----------------------------------------------------------------------------------
_migrations_ok = False  # once all are applied, stays so until the process restarts (a deploy)


def migrations_state() -> str:
    """ "ok", or "unapplied" while ``credo migrate`` has not run for the installed code."""
    global _migrations_ok
    if _migrations_ok:
        return OK
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        logger.exception("readiness: cannot read the migration state")
        return UNAVAILABLE
    if plan:
        logger.warning("readiness: %d unapplied migration(s)", len(plan))
        return "unapplied"
    _migrations_ok = True
    return OK


def task_queue_state() -> str:
    """The default task backend answers: the database queue's table, or the Redis queues."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

    try:
        backend: Any = task_backends[DEFAULT_TASK_BACKEND_ALIAS]  # the backend, not its proxy
        if hasattr(backend, "_get_queues"):  # django-tasks-rq
            for queue in backend._get_queues():
                queue.connection.ping()
            return OK
        if type(backend).__module__.startswith("django_tasks_db"):
            from django_tasks_db.models import DBTaskResult

            list(DBTaskResult.objects.order_by().values_list("pk", flat=True)[:1])
        return OK
    except Exception:  # noqa: BLE001 — any driver/broker error means "not reachable"
        logger.exception("readiness: task queue unreachable")
        return UNAVAILABLE


def record_scheduler_heartbeat(now: dt.datetime | None = None) -> str:
    """Called by ``credo scheduler`` on every tick: renews this scheduler's lease row."""
    from credo.core.scheduling import reaper

    host = socket.gethostname().split(".")[0][:40] or "host"
    scheduler_id = f"{SCHEDULER_PREFIX}{host}:{os.getpid()}"[:64]
    reaper.heartbeat(scheduler_id, queues="scheduler", now=now)
    return scheduler_id


def scheduler_heartbeat_at() -> dt.datetime | None:
    """The scheduler's latest sign of life: its own heartbeat (lease row) or, for a scheduler
    that does not beat, the newest schedule firing (``notify.send_due`` fires every minute)."""
    from django.db.models import Max

    from credo.core.scheduling.models import ScheduleFiring, WorkerLease

    beats = WorkerLease.objects.filter(
        worker_id__startswith=SCHEDULER_PREFIX, stopped_at__isnull=True
    ).aggregate(at=Max("heartbeat_at"))["at"]
    fired = ScheduleFiring.objects.filter(manual=False).aggregate(at=Max("created_at"))["at"]
    candidates = [at for at in (beats, fired) if at is not None]
    return max(candidates) if candidates else None


def scheduler_max_age() -> int:
    return int(getattr(settings, "CREDO_SCHEDULER_MAX_AGE_SECONDS", 600))


def last_close_of_business() -> dict[str, Any] | None:
    """The newest close-of-business run: business date, status and duration (seconds)."""
    from django.apps import apps

    try:
        run_model = apps.get_model("lending", "EodRun")
    except LookupError:
        return None
    run = (
        run_model.objects.order_by("-business_date")
        .values("business_date", "status", "started_at", "finished_at")
        .first()
    )
    if run is None:
        return None
    duration = None
    if run["finished_at"] and run["started_at"]:
        duration = round((run["finished_at"] - run["started_at"]).total_seconds(), 3)
    return {
        "business_date": run["business_date"].isoformat(),
        "status": run["status"],
        "duration_seconds": duration,
    }


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]
    scheduler_heartbeat_age_seconds: float | None
    last_close_of_business: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return all(value == OK for value in self.checks.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "status": OK if self.ok else UNAVAILABLE,
            "checks": dict(self.checks),
            "scheduler_heartbeat_age_seconds": self.scheduler_heartbeat_age_seconds,
            "last_close_of_business": self.last_close_of_business,
        }


def readiness_check(now: dt.datetime | None = None) -> Readiness:
    checks: dict[str, str] = {"database": _database()}
    if checks["database"] != OK:
        for name in ("migrations", "task_queue", "scheduler"):
            checks[name] = UNAVAILABLE
        return Readiness(checks, None, None)
    checks["migrations"] = migrations_state()
    checks["task_queue"] = task_queue_state()
    age: float | None = None
    last_cob: dict[str, Any] | None = None
    try:
        beat = scheduler_heartbeat_at()
        if beat is not None:
            age = round(max(0.0, ((now or timezone.now()) - beat).total_seconds()), 1)
        if age is None:
            checks["scheduler"] = "no_heartbeat"
        else:
            checks["scheduler"] = OK if age <= scheduler_max_age() else "stale"
        last_cob = last_close_of_business()
    except DatabaseError:  # tables missing before the first migrate
        logger.exception("readiness: scheduler / close-of-business state unreadable")
        checks.setdefault("scheduler", UNAVAILABLE)
    return Readiness(checks, age, last_cob)


def readyz_view(request: Any) -> Any:
    """``/readyz``: the readiness report as JSON; 503 when not ready. Public, no secrets."""
    from django.http import JsonResponse

    report = readiness_check()
    response = JsonResponse(report.as_json(), status=200 if report.ok else 503)
    response["Cache-Control"] = "no-store"
    return response
