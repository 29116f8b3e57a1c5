"""Left navigation, filtered by the user's permissions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: Any
    url_name: str
    icon: str = ""
    permission: str | None = None  # None: every logged-in user
    children: tuple[NavItem, ...] = field(default_factory=tuple)


NAV: list[NavItem] = [
    NavItem(_("工作台"), "core:home", "home"),
    NavItem(_("我的待办"), "todo:list", "checklist"),
]


def navigation_for(request: HttpRequest) -> list[dict[str, Any]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    items = []
    for item in NAV:
        if item.permission and not user.has_perm(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append(
            {"label": item.label, "url": url, "icon": item.icon, "active": request.path == url}
        )
    return items
