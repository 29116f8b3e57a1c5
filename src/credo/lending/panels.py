"""Panels other apps add to the loan detail page (collateral and guarantees, …).

Lending imports no app above it: an app registers a renderer from its ``AppConfig.ready``;
the renderer gets the request and the loan and returns HTML ("" to show nothing) and must check
the user's permissions itself. The loan page renders them in registration order
(``{% load loan_panels %}{% loan_panels loan %}``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from credo.core.registry import Registry

logger = logging.getLogger(__name__)

LoanPanel = Callable[[Any, Any], str]
loan_panels: Registry[LoanPanel] = Registry("loan detail panels", on_duplicate="replace")


def register_loan_panel(key: str, render: LoanPanel) -> None:
    loan_panels.register(key, render)


def render_loan_panels(request: Any, loan: Any) -> SafeString:
    parts = []
    for render in loan_panels:
        html = render(request, loan)
        if html:
            parts.append(str(html) if isinstance(html, SafeString) else conditional_escape(html))
    return mark_safe("".join(parts))  # noqa: S308 (each part rendered by a Django template)
