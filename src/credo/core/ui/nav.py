"""Left navigation, filtered by the user's permissions.

Apps add their entries in ``AppConfig.ready()`` with :func:`register_nav`; the shell never
imports app code. Sections are shown in ``SECTIONS`` order, items by ``order``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from credo.core.registry import Registry

SECTIONS: dict[str, Any] = {
    "work": _("工作"),
    "customers": _("客户"),
    "lending": _("信贷业务"),
    "risk": _("风险与催收"),
    "reports": _("报表"),
    "system": _("系统管理"),
}


@dataclass(frozen=True)
class NavItem:
    label: Any
    url_name: str
    icon: str = ""  # Tabler icon name, e.g. "home" → ti ti-home
    permission: str | None = None  # None: every logged-in user
    section: str = "work"
    order: int = 100


#: Keyed by url name; registering the same url name twice keeps the first entry.
nav_items: Registry[NavItem] = Registry("navigation items", on_duplicate="keep")


def register_nav(item: NavItem) -> None:
    """Idempotent: registering the same url name twice keeps the first entry."""
    if item.section not in SECTIONS:
        raise ValueError(f"unknown navigation section {item.section!r}")
    nav_items.register(item.url_name, item)


register_nav(NavItem(_("工作台"), "core:home", "home", order=0))


def navigation_for(request: HttpRequest) -> list[dict[str, Any]]:
    """``[{"label", "items": [{"label", "url", "icon", "active"}]}]`` for the current user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    sections: list[dict[str, Any]] = []
    for key, label in SECTIONS.items():
        items = []
        for item in sorted(
            (i for i in nav_items if i.section == key), key=lambda i: (i.order, str(i.label))
        ):
            if item.permission and not user.has_perm(item.permission):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            active = request.path == url or (url != "/" and request.path.startswith(url))
            items.append({"label": item.label, "url": url, "icon": item.icon, "active": active})
        if items:
            sections.append({"key": key, "label": label, "items": items})
    return sections
