"""Cached figures of the dashboard and the home page, keyed on the data version.

The dashboard's KPIs and the home page's "我的业务" cards aggregate the whole book in the user's
scope (at 100,000 loans tens of milliseconds per figure). They are cached per user and keyed on
a **data version**: one query reading the newest id of the tables every figure derives from —
journal entries (every disbursement, repayment, reversal, write-off, penalty), loans, customers
and their events (creation, transfer), applications and approval actions, and the newest
finished close of business (which writes the snapshots). A repayment posted a moment ago adds a
journal entry, so the next page view computes afresh: figures are never stale by a write that
the version sees. What it does not see (an edit that adds no row, e.g. a role's data scope — the
key also holds the user's scope and permissions) is bounded by ``TTL`` seconds.

Any app's page may use it (the home page's role panels, the dashboard): the source tables are
named through the app registry, so core imports no app. Works with the per-process memory cache
too (nothing to invalidate: the key moves); with Redis every web process shares the entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connections, router

TTL = 120  # seconds: the longest a figure can lag behind a change the version does not see

_VERSION_SOURCES = (
    ("lending", "JournalEntry", ""),
    ("lending", "Loan", ""),
    ("lending", "EodRun", "WHERE status = 'done'"),
    ("customers", "Customer", ""),
    ("customers", "CustomerEvent", ""),
    ("origination", "Application", ""),
    ("approvals", "ApprovalAction", ""),
)


def _version_sql(connection: Any) -> str:
    from django.apps import apps

    parts = []
    for app, model, where in _VERSION_SOURCES:
        if not apps.is_installed(f"credo.{app}"):
            continue
        table = connection.ops.quote_name(apps.get_model(app, model)._meta.db_table)
        parts.append(f"(SELECT MAX(id) FROM {table} {where})")  # noqa: S608 — model tables
    return "SELECT " + ", ".join(parts)


def data_version() -> str:
    """The newest id of every source table, as one string (one query, index-only lookups) —
    read where the figures are read (the replica inside ``read_replica()``), so a lagging
    replica never pairs old figures with a newer version. Read once per request and database
    (the home page's panels each ask)."""
    from django.apps import apps

    from credo.core.context import memoized

    journal = apps.get_model("lending", "JournalEntry")
    alias = router.db_for_read(journal) or "default"
    return memoized(f"figcache:version:{alias}", lambda: _read_version(alias))


def _read_version(alias: str) -> str:
    connection = connections[alias]
    with connection.cursor() as cur:
        cur.execute(_version_sql(connection))
        row = cur.fetchone()
    return ".".join(str(v or 0) for v in row)


def _user_key(user: Any) -> str:
    perms = ",".join(sorted(user.get_all_permissions())) if user.is_active else ""
    return f"{user.pk}:{user.data_scope}:{getattr(user, 'org_unit_id', '')}:{perms}"


def cached(user: Any, name: str, compute: Callable[[], Any], *parts: Any) -> Any:
    """``compute()`` for ``user``, or its cached result while the data version is unchanged."""
    from django.utils.translation import get_language

    raw = "|".join(
        [name, _user_key(user), str(get_language()), data_version(), *(str(p) for p in parts)]
    )
    key = "credo:fig:" + hashlib.sha256(raw.encode()).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return hit
    value = compute()
    cache.set(key, value, timeout=TTL)
    return value
