"""Reads for the API pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from credo.api.models import ApiToken

METHOD_ORDER = ["get", "post", "put", "patch", "delete"]


def tokens_visible_to(user: Any) -> QuerySet[ApiToken]:
    """Everyone sees their own tokens; user administrators see all."""
    qs = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    if user.has_perm("accounts.manage_users"):
        return qs
    return qs.filter(user=user)


def _schema_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    ref = schema.get("$ref") or (schema.get("items") or {}).get("$ref", "")
    if ref:
        return str(ref).rsplit("/", 1)[-1]
    return str(schema.get("type", ""))


def api_endpoints(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten an OpenAPI document into rows for the docs page."""
    global_security = schema.get("security")
    rows: list[dict[str, Any]] = []
    for path, operations in schema.get("paths", {}).items():
        for method in METHOD_ORDER:
            op = operations.get(method)
            if op is None:
                continue
            security = op.get("security", global_security) or []
            auth = sorted({name for requirement in security for name in requirement})
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {})
            rows.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tags": op.get("tags", []),
                    "auth": auth,
                    "params": [
                        {
                            "name": p.get("name"),
                            "in": p.get("in"),
                            "required": p.get("required", False),
                            "type": _schema_name(p.get("schema")),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": _schema_name(body.get("schema")),
                    "responses": sorted(op.get("responses", {}).keys()),
                    "anchor": f"{method}-{path}".replace("/", "-")
                    .replace("{", "")
                    .replace("}", ""),
                }
            )
    return rows
