from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def ui(request: HttpRequest) -> dict[str, Any]:
    from credo.core import clock
    from credo.core.ui.nav import navigation_for

    offset = clock.offset_days()
    return {
        "nav": navigation_for(request),
        # A demo moved forward in time says so on every page (never in production: offset 0).
        "demo_business_date": clock.today() if offset else None,
        "demo_offset_days": offset,
    }
