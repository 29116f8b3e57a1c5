"""Template tags for pages of apps above this one (origination: application, approval task,
credit report): ``{% load collateral_tags %}{% application_security app %}`` and
``{% customer_security customer %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from credo.collateral import panels

register = template.Library()


@register.simple_tag(takes_context=True)
def application_security(context: Any, application: Any, can_add: bool = True) -> SafeString:
    request = context.get("request")
    if request is None:
        return SafeString("")
    return mark_safe(panels.application_panel(request, application, can_add=can_add))  # noqa: S308


@register.simple_tag(takes_context=True)
def customer_security(context: Any, customer: Any) -> SafeString:
    request = context.get("request")
    if request is None:
        return SafeString("")
    return mark_safe(panels.customer_panel(request, customer))  # noqa: S308
