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


_layout_cache: dict[tuple[Any, ...], list[tuple[str, Any, list[tuple[NavItem, str]]]]] = {}


def _layout() -> list[tuple[str, Any, list[tuple[NavItem, str]]]]:
    """Sections with their items in display order and reversed URLs — the same for every user,
    so computed once per process (keyed by the registry's contents and the script prefix)."""
    from django.urls import get_script_prefix, get_urlconf
    from django.utils.translation import get_language

    # the cached layout holds the items, so their ids stay unique while it is cached
    items = tuple((k, id(v)) for k, v in nav_items.items())
    key = (get_script_prefix(), get_urlconf(), get_language(), items)
    layout = _layout_cache.get(key)
    if layout is None:
        layout = []
        for section, label in SECTIONS.items():
            entries = []
            for item in sorted(
                (i for i in nav_items if i.section == section),
                key=lambda i: (i.order, str(i.label)),
            ):
                try:
                    entries.append((item, reverse(item.url_name)))
                except NoReverseMatch:
                    continue
            layout.append((section, label, entries))
        if len(_layout_cache) > 16:  # tests re-register items; keep the dict small
            _layout_cache.clear()
        _layout_cache[key] = layout
    return layout


def navigation_for(request: HttpRequest) -> list[dict[str, Any]]:
    """``[{"label", "items": [{"label", "url", "icon", "active"}]}]`` for the current user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    path = request.path
    allowed: dict[str, bool] = {}
    sections: list[dict[str, Any]] = []
    for key, label, entries in _layout():
        items = []
        for item, url in entries:
            perm = item.permission
            if perm:
                ok = allowed.get(perm)
                if ok is None:
                    ok = allowed[perm] = user.has_perm(perm)
                if not ok:
                    continue
            active = path == url or (url != "/" and path.startswith(url))
            items.append({"label": item.label, "url": url, "icon": item.icon, "active": active})
        if items:
            sections.append({"key": key, "label": label, "items": items})
    return sections
