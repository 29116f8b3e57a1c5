"""Reads on a replica, only where asked for.

When ``DATABASE_REPLICA_URL`` is set the settings define a ``"replica"`` alias (a PostgreSQL
streaming replica). Nothing uses it implicitly: a replica lags the primary by a little, and a page
that writes then reads back, a lock, a uniqueness check or a money path must see the primary.
Code opts in for a block of heavy, read-only work — a report, an export, the dashboard::

    with read_replica():
        rows = run_query(user, spec)

or for a whole view with ``@uses_replica`` (placed *below* ``@login_required``, so the session
and the user are read from the primary). Inside the block:

* reads go to ``"replica"`` (when configured; otherwise ``"default"`` — the same code runs on a
  single server);
* writes always go to ``"default"``; and after the first write in the block, reads go to
  ``"default"`` too (read-your-writes);
* reads inside a transaction on ``"default"`` stay on ``"default"`` (a transaction sees its own
  rows); ``select_for_update()``/``get_or_create()`` are writes to Django and go to the primary.

The context is a :class:`contextvars.ContextVar`, so it is per thread and per asyncio task.

**A replica that is down or behind is skipped**: before reads go to it, the router checks (at
most every ``CREDO_REPLICA_CHECK_SECONDS``, default 5, per process) that it accepts a connection
and that its replay lag is under ``CREDO_REPLICA_MAX_LAG_SECONDS`` (default 30; a replica that
has replayed everything it received counts as 0). Otherwise reads go to the primary until the
next check, with one warning in the log per outage — a report is slower, never an error page.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpResponse, StreamingHttpResponse
from django.template.response import SimpleTemplateResponse

REPLICA = "replica"
logger = logging.getLogger(__name__)

# SQL of the lag check: 0 when everything received has been replayed (an idle primary sends
# nothing, so the last replay time alone would look old); NULL (→ 0) on a server that is not a
# standby, e.g. the test mirror.
LAG_SQL = (
    "SELECT COALESCE(CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END, 0)"
)


class _Health:
    """Per-process memo of the replica's last check (shared by the threads of a worker)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked_at = -1e9
        self.usable = True

    def reset(self) -> None:
        with self.lock:
            self.checked_at, self.usable = -1e9, True


health = _Health()


def _check_replica() -> bool:
    """Connect and read the replay lag; False (and close the connection) on any failure."""
    conn = connections[REPLICA]
    max_lag = float(getattr(settings, "CREDO_REPLICA_MAX_LAG_SECONDS", 30))
    try:
        conn.ensure_connection()
        if conn.vendor != "postgresql":
            return True
        with conn.cursor() as cur:
            cur.execute(LAG_SQL)
            lag = float(cur.fetchone()[0] or 0)
    except DatabaseError as exc:
        with contextlib.suppress(DatabaseError):
            conn.close()
        reason = f"{type(exc).__name__}: {exc}".strip()
    else:
        if lag <= max_lag:
            return True
        reason = f"replay lag {lag:.1f} s > {max_lag:g} s"
    if health.usable:  # one warning per outage, not per request
        logger.warning("read replica not used, reads go to the primary: %s", reason)
    return False


def replica_usable() -> bool:
    """The replica is configured, reachable and not too far behind (checked at most every
    ``CREDO_REPLICA_CHECK_SECONDS`` per process)."""
    if not replica_configured():
        return False
    every = float(getattr(settings, "CREDO_REPLICA_CHECK_SECONDS", 5))
    now = time.monotonic()
    if now - health.checked_at < every:
        return health.usable
    with health.lock:
        if now - health.checked_at >= every:
            usable = _check_replica()
            if usable and not health.usable:
                logger.warning("read replica usable again")
            health.usable, health.checked_at = usable, time.monotonic()
        return health.usable


@dataclass
class _Scope:
    wrote: bool = False


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "credo_read_replica", default=None
)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def replica_alias() -> str:
    """The alias reads use inside :func:`read_replica`: ``"replica"`` when configured and
    usable (see :func:`replica_usable`)."""
    return REPLICA if replica_usable() else DEFAULT_DB_ALIAS


def in_replica_scope() -> bool:
    return _scope.get() is not None


@contextlib.contextmanager
def read_replica() -> Iterator[None]:
    """Send this block's reads to the replica (see the module docstring). Nested blocks share
    the outer block's state (a write in an inner block pins the outer one to the primary)."""
    if _scope.get() is not None:
        yield
        return
    token = _scope.set(_Scope())
    try:
        yield
    finally:
        _scope.reset(token)


def _streamed(chunks: Iterable[Any]) -> Iterator[Any]:
    """A streaming response's content, each chunk produced inside :func:`read_replica` (the body
    is generated after the view returned, outside its block)."""
    iterator = iter(chunks)
    while True:
        with read_replica():
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk


V = TypeVar("V", bound=Callable[..., HttpResponse])


def uses_replica(view: V) -> V:
    """Run a view inside :func:`read_replica`, including the rendering of a lazy template
    response and the body of a streaming response."""

    @functools.wraps(view)
    def wrapper(request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        with read_replica():
            response = view(request, *args, **kwargs)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _streamed(response.streaming_content)
        return response

    return wrapper  # type: ignore[return-value]


class ReplicaRouter:
    """``DATABASE_ROUTERS`` entry: reads to the replica inside :func:`read_replica`, everything
    else to ``"default"``; only ``"default"`` is migrated."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        scope = _scope.get()
        if scope is None or scope.wrote or not replica_configured():
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        instance = hints.get("instance")
        if instance is not None and instance._state.db not in (None, REPLICA):
            return None  # a related object of a row read from the primary
        if not replica_usable():
            return None  # down or behind: the primary answers
        return REPLICA

    def db_for_write(self, model: Any, **hints: Any) -> str:
        scope = _scope.get()
        if scope is not None:
            scope.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        aliases = {DEFAULT_DB_ALIAS, REPLICA}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True  # one database, two connections
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if db == REPLICA:
            return False
        return None
