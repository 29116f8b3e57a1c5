"""The home page (工作台): apps register panels; the home view shows the ones the user may see.

Until role workbenches exist, the home page shows the user's open todos (core) and whatever
the downstream apps register here — approvals waiting for the user, figures from the user's
data scope. Each panel is responsible for its own data scope: ``load(user)`` receives the user
and returns the template context of the panel (``None`` hides it). Register in
``AppConfig.ready()``::

    from credo.core.ui.workbench import WorkbenchPanel, register_workbench_panel

    register_workbench_panel(
        WorkbenchPanel("approvals", _("待我审批"), "approvals/_home.html", load_inbox)
    )
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from credo.core.registry import Registry

logger = logging.getLogger(__name__)

PanelLoader = Callable[[Any], dict[str, Any] | None]


@dataclass(frozen=True)
class WorkbenchPanel:
    key: str
    title: Any
    template: str  # included with ``panel`` (the dict below) in its context
    load: PanelLoader
    permission: str | None = None
    order: int = 100
    wide: bool = False  # a full row instead of half of it (figure cards need the room)


workbench_panels: Registry[WorkbenchPanel] = Registry("workbench panels", on_duplicate="replace")


def register_workbench_panel(panel: WorkbenchPanel) -> None:
    """Idempotent per key: a second registration with the same key replaces the first."""
    workbench_panels.register(panel.key, panel)


def unregister_workbench_panel(key: str) -> None:
    workbench_panels.unregister(key)


def panels_for(user: Any) -> list[dict[str, Any]]:
    """``[{"key", "title", "template", "wide", "data"}]`` for the panels the user may see."""
    out: list[dict[str, Any]] = []
    for panel in sorted(workbench_panels, key=lambda p: (p.order, p.key)):
        if panel.permission and not user.has_perm(panel.permission):
            continue
        try:
            data = panel.load(user)
        except Exception:  # one broken module must not take the whole home page down
            logger.exception("workbench panel %s failed", panel.key)
            continue
        if data is None:
            continue
        out.append(
            {
                "key": panel.key,
                "title": panel.title,
                "template": panel.template,
                "wide": panel.wide,
                "data": data,
            }
        )
    return out
