"""决策模型 API."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["rules"])
