from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def ui(request: HttpRequest) -> dict[str, Any]:
    from credo.core.ui.nav import navigation_for

    return {"nav": navigation_for(request)}
