"""``{{ fen|yuan }}`` → ``1,234.56``: integer fen shown as yuan with thousands separators
(the one rule, :func:`credo.core.money.format_fen`)."""

from __future__ import annotations

from typing import Any

from django import template

from credo.core.money import format_fen

register = template.Library()


@register.filter
def yuan(fen: Any) -> str:
    return format_fen(fen)
