"""``{% loan_panels loan %}``: the panels other apps registered for the loan detail page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from credo.lending.panels import render_loan_panels

register = template.Library()


@register.simple_tag(takes_context=True)
def loan_panels(context: Any, loan: Any) -> SafeString:
    request = context.get("request")
    if request is None:
        return SafeString("")
    return render_loan_panels(request, loan)
