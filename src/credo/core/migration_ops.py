"""Operations shared by migrations (kept stable: applied migrations import them)."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def set_fillfactor(*tables: str, fillfactor: int) -> migrations.RunPython:
    """PostgreSQL ``ALTER TABLE … SET (fillfactor = N)`` on ``tables`` (reversed to the default
    100; nothing on other databases). For tables rewritten row by row every night: room left
    on each page keeps those updates heap-only (HOT), touching none of the table's indexes.
    Applies to pages written afterwards (docs/deployment.md)."""

    def apply(value: int) -> Any:
        def run(apps: Any, schema_editor: Any) -> None:
            if schema_editor.connection.vendor == "postgresql":
                for table in tables:
                    schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {value})")

        return run

    return migrations.RunPython(apply(fillfactor), apply(100))
