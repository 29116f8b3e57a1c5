"""贷前申请 API."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["origination"])
