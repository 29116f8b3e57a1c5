"""``{% records_panel "customer" customer %}``: the custom records of a parent, with 新建
buttons (customer 360 and application pages; the loan page uses the loan panel registry)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from credo.records.panels import render_panel

register = template.Library()


@register.simple_tag(takes_context=True)
def records_panel(context: Any, attached_to: str, obj: Any) -> SafeString:
    request = context.get("request")
    if request is None or obj is None:
        return SafeString("")
    return mark_safe(render_panel(request, attached_to, obj))  # noqa: S308 (rendered template)
