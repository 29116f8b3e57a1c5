"""The home page (工作台): apps register panels; the home view shows the ones the user may see.

The page has general panels (the user's todos, "我的业务" figures) and one **section per role**
the user holds (客户经理, 团队主管, 审批, 风控, 财务, 催收, 管理层): a user with several roles
sees the section of each. A section is declared here (:data:`ROLE_SECTIONS`, more with
:func:`register_workbench_section`); the apps fill it with panels (``section=<key>``) from a
``workbench_panels.py`` module imported in their ``AppConfig.ready()``. Each panel is
responsible for its own data scope: ``load(user)`` receives the user and returns the template
context of the panel (``None`` hides it); every figure links to the list it counts, filtered
through the query string, so the number on the card is the number of rows the link shows::

    from credo.core.ui.workbench import WorkbenchPanel, register_workbench_panel

    register_workbench_panel(
        WorkbenchPanel("am-leads", _("线索跟进"), CARDS, load_followups, section="account_manager")
    )

``CARDS`` (``core/workbench/_cards.html``) renders the common shape
``{"items": [{key, label, value, fmt, note, url, tone}], "rows": [...], "rows_title", "empty"}``.
Keep a panel to a few grouped queries (``Count(filter=…)`` in one ``aggregate``); figures that
read the whole book go through :mod:`credo.core.figcache`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _l

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
    section: str = ""  # a role section's key (ROLE_SECTIONS); "" = a general panel for everyone


@dataclass(frozen=True)
class WorkbenchSection:
    """One role's part of the home page. Shown when the user holds one of ``roles`` (role
    codes) or, if given, has ``permission``; a superuser sees every section."""

    key: str
    title: Any
    roles: tuple[str, ...] = ()
    permission: str | None = None
    order: int = 100
    empty: Any = ""  # the Chinese empty state when none of its panels has anything to show


#: The card template most panels use (figures linking to filtered lists + an optional list).
CARDS = "core/workbench/_cards.html"

workbench_sections: Registry[WorkbenchSection] = Registry(
    "workbench sections", on_duplicate="replace"
)


def register_workbench_section(section: WorkbenchSection) -> None:
    workbench_sections.register(section.key, section)


ROLE_SECTIONS = (
    WorkbenchSection(
        "account_manager",
        _l("客户经理"),
        roles=("account_manager",),
        order=10,
        empty=_l("今天没有需要跟进的事项。"),
    ),
    WorkbenchSection(
        "team_lead",
        _l("团队主管"),
        roles=("team_lead",),
        order=20,
        empty=_l("团队暂无需要关注的事项。"),
    ),
    # Whoever may see approvals: the tasks are assigned to people, not to a role.
    WorkbenchSection(
        "approver",
        _l("审批"),
        permission="approvals.view_approvalinstance",
        order=30,
        empty=_l("没有等待您审批的事项。"),
    ),
    WorkbenchSection(
        "risk",
        _l("风控"),
        roles=("risk_analyst", "risk_manager"),
        order=40,
        empty=_l("没有未处理的预警。"),
    ),
    WorkbenchSection(
        "finance", _l("财务"), roles=("finance",), order=50, empty=_l("没有待处理的财务事项。")
    ),
    WorkbenchSection(
        "collector",
        _l("催收"),
        roles=("collector_junior", "collector_senior"),
        order=60,
        empty=_l("今天没有待处理的催收案件。"),
    ),
    WorkbenchSection(
        "management",
        _l("管理层"),
        roles=("management",),
        order=70,
        empty=_l("暂无经营数据。"),
    ),
)
for _section in ROLE_SECTIONS:
    register_workbench_section(_section)


workbench_panels: Registry[WorkbenchPanel] = Registry("workbench panels", on_duplicate="replace")


def register_workbench_panel(panel: WorkbenchPanel) -> None:
    """Idempotent per key: a second registration with the same key replaces the first."""
    workbench_panels.register(panel.key, panel)


def unregister_workbench_panel(key: str) -> None:
    workbench_panels.unregister(key)


def section_visible(section: WorkbenchSection, user: Any) -> bool:
    if not getattr(user, "is_active", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    if section.roles and set(section.roles) & set(getattr(user, "role_codes", ())):
        return True
    return bool(section.permission) and user.has_perm(section.permission)


def sections_for(user: Any) -> list[dict[str, Any]]:
    """``[{"key", "title", "empty", "panels": [...]}]``: the role sections the user sees, in
    order, each with its panels (same shape as :func:`panels_for`)."""
    out: list[dict[str, Any]] = []
    for section in sorted(workbench_sections, key=lambda s: (s.order, s.key)):
        if not section_visible(section, user):
            continue
        out.append(
            {
                "key": section.key,
                "title": section.title,
                "empty": section.empty,
                "panels": panels_for(user, section=section.key),
            }
        )
    return out


def panels_for(user: Any, *, section: str = "") -> list[dict[str, Any]]:
    """``[{"key", "title", "template", "wide", "data"}]`` for the panels of ``section`` (the
    general panels by default) the user may see."""
    out: list[dict[str, Any]] = []
    for panel in sorted(workbench_panels, key=lambda p: (p.order, p.key)):
        if panel.section != section:
            continue
        if panel.permission and not user.has_perm(panel.permission):
            continue
        try:
            data = panel.load(user)
        except Exception:  # one broken module must not take the whole home page down
            logger.exception("workbench panel %s failed", panel.key)
            continue
        if data is None:
            continue
        if panel.template == CARDS:
            _card_defaults(data)
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


_PANEL_KEYS = ("items", "rows", "rows_title", "rows_empty", "more_url", "more_label", "empty")
_ITEM_KEYS = ("fmt", "note", "tone", "badge", "value")


def _card_defaults(data: dict[str, Any]) -> None:
    """Every key ``CARDS`` reads, present (None when a panel leaves it out): a template lookup
    of a missing key costs an exception and a ``dir()`` of the object — ≈ 90 of them on a
    manager's home page."""
    for key in _PANEL_KEYS:
        data.setdefault(key, None)
    for group in (data["items"], data["rows"]):
        for entry in group or ():
            if isinstance(entry, dict):
                for key in _ITEM_KEYS:
                    entry.setdefault(key, None)


def sla_countdown(due_at: Any, now: Any) -> tuple[str, str]:
    """``(text, tone)`` of a deadline: "剩余 5 小时" / "已超时 2 天" — the SLA countdown the
    approver, risk and collector cards show (tone: danger past due, warning within a day)."""
    from django.utils.translation import gettext as _

    if due_at is None:
        return "", ""
    seconds = int((due_at - now).total_seconds())
    left = abs(seconds)
    if left >= 86400:
        span = _("%(n)d 天") % {"n": left // 86400}
    elif left >= 3600:
        span = _("%(n)d 小时") % {"n": left // 3600}
    else:
        span = _("%(n)d 分钟") % {"n": max(1, left // 60)}
    if seconds < 0:
        return _("已超时 %(s)s") % {"s": span}, "danger"
    return _("剩余 %(s)s") % {"s": span}, "warning" if seconds < 86400 else "green"


# --- core's own panel: the account manager's todos falling due ------------------------------------
def _todos_due(user: Any) -> dict[str, Any]:
    from django.urls import reverse

    from credo.core.todo.selectors import todo_counts

    counts = todo_counts(user)
    url = reverse("todo:list")
    return {
        "items": [
            {
                "key": "todos-today",
                "label": _l("今天到期"),
                "value": counts["today"],
                "url": url + "?due=today",
                "tone": "warning",
            },
            {
                "key": "todos-overdue",
                "label": _l("已逾期"),
                "value": counts["overdue"],
                "url": url + "?due=overdue",
                "tone": "danger",
            },
            {"key": "todos-open", "label": _l("全部待办"), "value": counts["open"], "url": url},
        ]
    }


register_workbench_panel(
    WorkbenchPanel(
        "am-todos", _l("待办到期"), CARDS, _todos_due, section="account_manager", order=10
    )
)
