"""Fast bulk insert and update of rows with JSON columns on PostgreSQL.

Django's ``bulk_create`` compiles and quotes every value of every row on the client; for rows
carrying several JSON documents that costs more than the work that produced them. Here the rows
travel as one JSON array per 5,000 rows and PostgreSQL unpacks it (``jsonb_to_recordset``);
primary keys are drawn from the sequence first so the objects get them, as ``bulk_create`` does.
Other databases fall back to ``bulk_create``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.utils import timezone

M = TypeVar("M", bound=models.Model)
CHUNK = 5000


PLAIN = (str, int, float, bool, list, dict)


def _value(obj: models.Model, field: models.Field[Any, Any]) -> Any:
    value = getattr(obj, field.attname)
    if value is None or isinstance(value, PLAIN):
        return value
    return field.get_db_prep_value(value, connection)


def json_bulk_insert(
    rows: Sequence[M],
    columns: dict[str, str],
    *,
    now_fields: Sequence[str] = ("created_at",),
    ignore_conflicts: bool = False,
) -> list[M]:
    """Insert ``rows`` (unsaved instances of one model). ``columns`` maps each field name to its
    PostgreSQL type (``{"input": "jsonb", "score": "integer", ...}``); ``now_fields`` are set to
    the current time. With ``ignore_conflicts`` rows hitting a unique constraint are skipped
    (their objects keep the drawn id but do not exist: re-read if that matters)."""
    rows = list(rows)
    if not rows:
        return rows
    model = type(rows[0])
    now = timezone.now()
    for row in rows:
        for name in now_fields:
            setattr(row, name, now)
    if connection.vendor != "postgresql":
        manager: Any = model._default_manager
        return list(manager.bulk_create(rows, batch_size=1000, ignore_conflicts=ignore_conflicts))
    meta = model._meta
    table = meta.db_table
    fields: list[Any] = [meta.get_field(name) for name in columns]
    db_cols: list[str] = [f.column for f in fields]
    now_cols: list[str] = [getattr(meta.get_field(n), "column", n) for n in now_fields]
    record = ", ".join(f"{col} {kind}" for col, kind in zip(db_cols, columns.values(), strict=True))
    insert_cols = ", ".join(["id", *db_cols, *now_cols])
    select_cols = ", ".join(["r.id", *(f"r.{c}" for c in db_cols), *(["%s"] * len(now_fields))])
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        with connection.cursor() as cur:
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(chunk)],
            )
            ids = [r[0] for r in cur.fetchall()]
            payload = json.dumps(
                [
                    {
                        "id": pk,
                        **{col: _value(obj, f) for col, f in zip(db_cols, fields, strict=True)},
                    }
                    for pk, obj in zip(ids, chunk, strict=True)
                ],
                ensure_ascii=False,
                default=str,
            )
            cur.execute(
                f"INSERT INTO {table} ({insert_cols}) SELECT {select_cols} "  # noqa: S608 — names from the model
                f"FROM jsonb_to_recordset(%s::jsonb) AS r(id bigint, {record}){conflict}",
                [*([now] * len(now_fields)), payload],
            )
        for pk, obj in zip(ids, chunk, strict=True):
            obj.pk = pk
            obj._state.adding = False
    return rows


def json_bulk_update(rows: Sequence[M], fields: Sequence[str]) -> int:
    """Write ``fields`` of saved instances of one model in one ``UPDATE … FROM
    jsonb_to_recordset`` per 5,000 rows on PostgreSQL (Django's ``bulk_update`` builds one
    ``CASE WHEN id = … THEN …`` per field and row: its SQL grows with rows × fields and costs
    more to compile and plan than the update itself). Elsewhere ``bulk_update``. Returns the
    number of rows written."""
    rows = list(rows)
    if not rows:
        return 0
    model = type(rows[0])
    if connection.vendor != "postgresql":
        manager: Any = model._default_manager
        return int(manager.bulk_update(rows, list(fields), batch_size=1000))
    meta = model._meta
    table = meta.db_table
    targets: list[Any] = [meta.get_field(name) for name in fields]
    pk_col = meta.pk.column  # type: ignore[union-attr]
    record = ", ".join(f"{f.column} {f.db_type(connection)}" for f in targets)
    sets = ", ".join(f"{f.column} = r.{f.column}" for f in targets)
    written = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        payload = json.dumps(
            [{"_pk": obj.pk, **{f.column: _value(obj, f) for f in targets}} for obj in chunk],
            ensure_ascii=False,
            default=str,
        )
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {table} AS t SET {sets} "  # noqa: S608 — names from the model
                f"FROM jsonb_to_recordset(%s::jsonb) AS r(_pk bigint, {record}) "
                f"WHERE t.{pk_col} = r._pk",
                [payload],
            )
            written += int(cur.rowcount)
    return written
