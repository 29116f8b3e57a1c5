"""The REST API, mounted at /api/v1/."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="Credo API", version="1", urls_namespace="api")
