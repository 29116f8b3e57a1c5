"""``{% sensitive obj "field_name" %}``: a sensitive value masked or in clear (audited)."""

from __future__ import annotations

from typing import Any

from django import template

from credo.accounts.fieldperms import display_value

register = template.Library()


@register.simple_tag(takes_context=True)
def sensitive(context: template.Context, obj: Any, field_name: str, purpose: str = "view") -> str:
    request = context.get("request")
    user = getattr(request, "user", None) if request is not None else context.get("user")
    if obj is None:
        return ""
    return display_value(user, obj, field_name, purpose=purpose)
