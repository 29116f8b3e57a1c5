"""Turning POSTed pages into service input, and definitions into what the templates render.

The record form is generated from the version's field definitions (no Django form class: the
fields are data); the designer is a plain form with one row of inputs per field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from credo.records import schema

MAX_UPLOAD = 10 * 1024 * 1024
_ROW = re.compile(r"^f_(?P<key>[a-z][a-z0-9_]*)-(?P<row>\d+)-(?P<col>[a-z][a-z0-9_]*)$")
_FLD = re.compile(r"^fld-(?P<i>\d+)-(?P<attr>[a-z_]+)$")


# --- record form ---------------------------------------------------------------------------------
def raw_from_post(
    fields: list[dict[str, Any]], request: HttpRequest, viewer: schema.Viewer
) -> tuple[dict[str, Any], dict[str, list[schema.Upload]], dict[str, list[int]]]:
    """POST → (raw values, uploads, removed file ids) for the editable fields."""
    post = request.POST
    raw: dict[str, Any] = {}
    uploads: dict[str, list[schema.Upload]] = {}
    removed: dict[str, list[int]] = {}
    rows: dict[str, dict[int, dict[str, Any]]] = {}
    for name in post:
        m = _ROW.match(name)
        if m:
            cells = rows.setdefault(m["key"], {}).setdefault(int(m["row"]), {})
            cells[m["col"]] = post.getlist(name)
    for d in fields:
        key, t = d["key"], d["type"]
        name = f"f_{key}"
        if not viewer.can_edit(d):
            continue
        if t == "multi_choice":
            raw[key] = post.getlist(name)
        elif t == "boolean":
            raw[key] = post.get(name) in ("1", "on", "true")
        elif t == "subtable":
            raw[key] = _table(d, rows.get(key, {}))
        elif t in schema.FILE_TYPES:
            uploads[key] = [
                schema.Upload(name=f.name or "", data=bytes(f.read(MAX_UPLOAD + 1)))
                for f in request.FILES.getlist(name)
                if f.size
            ]
            gone = [int(v) for v in post.getlist(f"{name}-remove") if v.isdigit()]
            if gone:
                removed[key] = gone
        elif t != "computed":
            raw[key] = post.get(name, "")
    return raw, uploads, removed


def _table(d: Mapping[str, Any], rows: Mapping[int, Mapping[str, list[str]]]) -> list[Any]:
    by_col = {c["key"]: c for c in d["columns"]}
    table = []
    for _i, row in sorted(rows.items()):
        clean_row: dict[str, Any] = {}
        for col, value in row.items():
            c = by_col.get(col)
            if c is None:
                continue
            if c["type"] == "multi_choice":
                clean_row[col] = [v for v in value if v]
            elif c["type"] == "boolean":
                clean_row[col] = bool(value) and value[-1] in ("1", "on", "true")
            else:
                clean_row[col] = value[-1] if value else ""
        table.append(clean_row)
    return table


def _form_value(d: Mapping[str, Any], value: Any) -> Any:
    """Stored value → what the input shows (money in 元)."""
    return schema.api_value(d, value) if value is not None else None


def widgets(
    fields: list[dict[str, Any]],
    viewer: schema.Viewer,
    *,
    stored: Mapping[str, Any] | None = None,
    posted: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    files: Mapping[int, Any] | None = None,
) -> list[dict[str, Any]]:
    """One entry per visible field for ``records/_field.html``."""
    stored = stored or {}
    errors = errors or {}
    out = []
    for d in fields:
        if not viewer.can_view(d):
            continue
        key = d["key"]
        if posted is not None and key in posted:
            value = posted[key]
        else:
            value = _form_value(d, stored.get(key))
        if d["type"] in schema.FILE_TYPES:
            value = [files[i] for i in stored.get(key) or [] if files and i in files]
        rows: list[dict[str, Any]] = []
        if d["type"] == "subtable":
            raw_rows = value or []
            stored_rows = stored.get(key) or []
            for index, row in enumerate(raw_rows):
                srow = stored_rows[index] if index < len(stored_rows) else {}
                rows.append(
                    {
                        "index": index,
                        "cells": [
                            {
                                **c,
                                "name": f"f_{key}-{index}-{c['key']}",
                                "value": row.get(c["key"]),
                                "display": schema.display(c, srow.get(c["key"])),
                                "error": errors.get(f"{key}.{index + 1}.{c['key']}", ""),
                            }
                            for c in d["columns"]
                        ],
                    }
                )
            if not rows:
                rows.append(
                    {
                        "index": 0,
                        "cells": [
                            {**c, "name": f"f_{key}-0-{c['key']}", "value": None, "error": ""}
                            for c in d["columns"]
                        ],
                    }
                )
        sub_errors = [v for k, v in errors.items() if k.startswith(f"{key}.")]
        out.append(
            {
                **d,
                "name": f"f_{key}",
                "value": value,
                "display": schema.display(d, stored.get(key)),
                "editable": viewer.can_edit(d),
                "error": errors.get(key, ""),
                "sub_errors": sub_errors,
                "rows": rows,
                "next_row": len(rows),
                "type_label": schema.TYPE_LABELS.get(d["type"], d["type"]),
                "selected": value if isinstance(value, list) else [value],
            }
        )
    return out


# --- designer --------------------------------------------------------------------------------------
DESIGNER_ATTRS = (
    "key",
    "label",
    "type",
    "required",
    "required_when",
    "options",
    "columns",
    "expression",
    "result_type",
    "help_text",
    "min",
    "max",
    "regex",
    "show_in_list",
    "max_files",
    "order",
    "delete",
)


def designer_rows_from_post(post: Any) -> list[dict[str, Any]]:
    """The designer's rows (``fld-<i>-<attr>``) in their ``order`` → raw field definitions;
    rows marked 删除 and blank rows are dropped."""
    rows: dict[int, dict[str, Any]] = {}
    for name in post:
        m = _FLD.match(name)
        if not m:
            continue
        i, attr = int(m["i"]), m["attr"]
        if attr in ("view_roles", "edit_roles"):
            rows.setdefault(i, {})[attr] = post.getlist(name)
        elif attr in DESIGNER_ATTRS:
            rows.setdefault(i, {})[attr] = post.get(name, "")
    out = []
    for i, row in rows.items():
        if row.get("delete") or not (str(row.get("key", "")).strip() or row.get("label")):
            continue
        try:
            order = int(row.get("order") or i)
        except ValueError:
            order = i
        out.append((order, i, row))
    out.sort(key=lambda t: (t[0], t[1]))
    fields = []
    for _order, _i, row in out:
        fields.append(
            {
                "key": str(row.get("key", "")).strip(),
                "label": row.get("label", ""),
                "type": row.get("type", "text"),
                "required": row.get("required") in ("1", "on"),
                "required_when": row.get("required_when", ""),
                "options": schema.parse_options(row.get("options", "")),
                "columns": schema.parse_columns(row.get("columns", "")),
                "expression": row.get("expression", ""),
                "result_type": row.get("result_type", "number"),
                "help_text": row.get("help_text", ""),
                "min": row.get("min", ""),
                "max": row.get("max", ""),
                "regex": row.get("regex", ""),
                "show_in_list": row.get("show_in_list") in ("1", "on"),
                "max_files": row.get("max_files", ""),
                "view_roles": row.get("view_roles", []),
                "edit_roles": row.get("edit_roles", []),
            }
        )
    return fields


def designer_rows(fields: list[dict[str, Any]], errors: Mapping[str, str]) -> list[dict[str, Any]]:
    """Definitions → rows for the designer template (options and columns as text lines)."""
    rows = []
    for index, d in enumerate(fields, 1):
        row_errors = [v for k, v in errors.items() if k == str(index) or k.startswith(f"{index}.")]
        rows.append(
            {
                **d,
                "index": index,
                "options_text": schema.options_text(schema._options(d.get("options"))),
                "columns_text": schema.columns_text(
                    [
                        {**c, "options": schema._options(c.get("options"))}
                        for c in d.get("columns", [])
                    ]
                ),
                "errors": row_errors,
            }
        )
    return rows
