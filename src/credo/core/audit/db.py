"""Database-level guard: the audit table rejects UPDATE and DELETE (and TRUNCATE on PostgreSQL).

The hash chain detects tampering after the fact; the trigger stops the application (or a
careless operator) from changing history in the first place.
"""

from __future__ import annotations

from typing import Any

TABLE = "audit_auditentry"
MESSAGE = "audit log is append-only"

_PG_INSTALL = f"""
CREATE OR REPLACE FUNCTION credo_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
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
_SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS credo_audit_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER IF NOT EXISTS credo_audit_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS credo_audit_no_update;",
    "DROP TRIGGER IF EXISTS credo_audit_no_delete;",
]


def install_guard(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_INSTALL)
        elif connection.vendor == "sqlite":
            for sql in _SQLITE_INSTALL:
                cursor.execute(sql)


def remove_guard(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_REMOVE)
        elif connection.vendor == "sqlite":
            for sql in _SQLITE_REMOVE:
                cursor.execute(sql)
