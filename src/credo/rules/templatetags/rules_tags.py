from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def tojson(value: Any) -> str:
    """JSON as users type it in the forms (not Python's repr); autoescaped by the template."""
    return json.dumps(value, ensure_ascii=False)
