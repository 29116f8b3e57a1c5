"""``{% load notify %}{% unread_count request.user %}`` — the user's unread in-app messages
(use ``{% unread_count request.user as n %}`` to branch on it, e.g. for a bell badge)."""

from __future__ import annotations

from typing import Any

from django import template

from credo.notify.selectors import unread_count as _unread_count

register = template.Library()


@register.simple_tag
def unread_count(user: Any) -> int:
    return _unread_count(user)
