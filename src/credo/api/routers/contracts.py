"""合同与签署 API."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["contracts"])
