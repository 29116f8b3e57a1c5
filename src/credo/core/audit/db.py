"""Database-level guard: the audit table rejects UPDATE and DELETE (and TRUNCATE on PostgreSQL).

The hash chain detects tampering after the fact; the trigger stops the application (or a
careless operator) from changing history in the first place. The one UPDATE allowed is the
sealer's (``credo.core.audit.services.audit_seal``): it writes ``seq``, ``prev_hash`` and
``hash`` once, on a row that has no ``seq`` yet, and may change nothing else.
"""

from __future__ import annotations

from typing import Any

TABLE = "audit_auditentry"
MESSAGE = "audit log is append-only"

# Every column but the chain fields the sealer writes (seq, prev_hash, hash).
CONTENT_COLUMNS = (
    "id",
    "created_at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "metadata",
    "ip",
    "request_id",
    "content_hash",
)


def _sealing_condition(same: str) -> str:
    """SQL that is true for the sealer's update: unsealed before, sealed after, content equal."""
    unchanged = " AND ".join(same.format(c=c) for c in CONTENT_COLUMNS)
    return (
        "OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL "
        f"AND NEW.hash IS NOT NULL AND {unchanged}"
    )


_PG_FUNCTION_STRICT = f"""
CREATE OR REPLACE FUNCTION credo_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
_PG_FUNCTION_SEALING = f"""
CREATE OR REPLACE FUNCTION credo_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {_sealing_condition("NEW.{c} IS NOT DISTINCT FROM OLD.{c}")} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
_PG_TRIGGERS = f"""
DROP TRIGGER IF EXISTS credo_audit_no_change ON {TABLE};
CREATE TRIGGER credo_audit_no_change BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION credo_audit_append_only();
DROP TRIGGER IF EXISTS credo_audit_no_truncate ON {TABLE};
CREATE TRIGGER credo_audit_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION credo_audit_append_only();
"""
_PG_REMOVE = f"""
DROP TRIGGER IF EXISTS credo_audit_no_change ON {TABLE};
DROP TRIGGER IF EXISTS credo_audit_no_truncate ON {TABLE};
DROP FUNCTION IF EXISTS credo_audit_append_only();
"""


def _sqlite_install(sealing: bool) -> list[str]:
    when = f" WHEN NOT ({_sealing_condition('NEW.{c} IS OLD.{c}')})" if sealing else ""
    return [
        f"CREATE TRIGGER IF NOT EXISTS credo_audit_no_update BEFORE UPDATE ON {TABLE}{when} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
        f"CREATE TRIGGER IF NOT EXISTS credo_audit_no_delete BEFORE DELETE ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    ]


_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS credo_audit_no_update;",
    "DROP TRIGGER IF EXISTS credo_audit_no_delete;",
]


def install_guard(connection: Any, *, sealing: bool = True) -> None:
    """Install the append-only triggers. ``sealing=False`` is the guard before the sealer
    existed (migration 0002): no UPDATE at all."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION_SEALING if sealing else _PG_FUNCTION_STRICT)
            cursor.execute(_PG_TRIGGERS)
        elif connection.vendor == "sqlite":
            for sql in _sqlite_install(sealing):
                cursor.execute(sql)


def remove_guard(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_REMOVE)
        elif connection.vendor == "sqlite":
            for sql in _SQLITE_REMOVE:
                cursor.execute(sql)
