"""Home page (工作台) panels until role workbenches exist: the approvals waiting for the user and
a few figures from the user's data scope, each linking to the list it counts.

Registered from :class:`credo.reports.apps.ReportsConfig` (reports sits downstream of every
app it reads here). The counts come from the same selectors as the linked lists, so the number
on the card is the number of rows the link shows.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Count, Sum, Window
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core.ui.workbench import WorkbenchPanel, register_workbench_panel
from credo.reports.datasets import _num

HOME_TASKS = 5
HOME_KPIS = 8


def approvals_panel(user: Any) -> dict[str, Any] | None:
    """The 审批 section: the user's open tasks, soonest deadline first, each with its SLA
    countdown, and how many are past or within a day of their deadline."""
    import datetime as dt

    from django.db.models import Q
    from django.utils import timezone

    from credo.approvals.selectors import open_tasks_for
    from credo.core.ui.workbench import sla_countdown

    now = timezone.now()
    # One query: the first HOME_TASKS open tasks, each row carrying the counts over all of
    # them (window aggregates are computed before the LIMIT); only the columns the card shows.
    soon = Q(due_at__gte=now, due_at__lt=now + dt.timedelta(days=1))
    qs = (
        open_tasks_for(user)
        .select_related(None)
        .select_related("instance")
        .only("id", "status", "step_name", "due_at", "instance__title")
        .annotate(
            n_open=Window(Count("id")),
            n_overdue=Window(Count("id", filter=Q(due_at__lt=now))),
            n_soon=Window(Count("id", filter=soon)),
        )
    )
    tasks = list(qs[:HOME_TASKS])
    first = tasks[0] if tasks else None
    counts = {
        "open": getattr(first, "n_open", 0),
        "overdue": getattr(first, "n_overdue", 0),
        "soon": getattr(first, "n_soon", 0),
    }
    for task in tasks:
        task.sla_text, task.sla_tone = sla_countdown(task.due_at, now)  # type: ignore[attr-defined]
    return {
        "counts": {k: int(v or 0) for k, v in counts.items()},
        "tasks": tasks,
        "url": reverse("approvals:inbox"),
    }


def management_panel(user: Any) -> dict[str, Any] | None:
    """管理层: the dashboard's headline KPIs this month, from the dashboard's own computation and
    cache (figcache, keyed on the data version)."""
    from credo.core import clock, figcache
    from credo.reports import kpis

    today = clock.today()
    cards = figcache.cached(
        user, "home-kpis", lambda: kpis.compute(user, "month", today), "month", today
    )
    return {"cards": cards[:HOME_KPIS], "url": reverse("reports:dashboard")}


def figures_panel(user: Any) -> dict[str, Any] | None:
    from credo.core import figcache

    # cached per user while the data version is unchanged (core/figcache.py)
    return figcache.cached(user, "home-figures", lambda: _figures(user))  # type: ignore[no-any-return]


def _figures(user: Any) -> dict[str, Any] | None:
    items: list[dict[str, Any]] = []
    if apps.is_installed("credo.customers") and user.has_perm("customers.view_customer"):
        from credo.customers.selectors import customer_list

        items.append(
            {
                "key": "customers",
                "label": _("客户"),
                "value": customer_list(user).count(),
                "fmt": "int",
                "note": _("数据权限范围内的客户数"),
                "url": reverse("customers:list"),
            }
        )
    if apps.is_installed("credo.lending") and user.has_perm("lending.view_loan"):
        from credo.lending.selectors import loan_list
        from credo.reports.kpis import _live_book

        book = _live_book(user)
        items.append(
            {
                "key": "outstanding",
                "label": _("贷款余额"),
                "value": int(book["bal"]),
                "fmt": "money",
                "note": _("在贷 %(n)d 笔") % {"n": int(book["n"])},
                "url": reverse("lending:loan_list"),
            }
        )
        overdue = loan_list(user, {"overdue": "1"}).aggregate(
            n=Count("id"), bal=Sum("outstanding_principal")
        )
        items.append(
            {
                "key": "overdue",
                "label": _("逾期贷款"),
                "value": int(overdue["n"] or 0),
                "fmt": "int",
                "note_money": int(_num(overdue["bal"])),
                "url": reverse("lending:loan_list") + "?overdue=1",
            }
        )
    return {"items": items} if items else None


def register() -> None:
    if apps.is_installed("credo.approvals"):
        register_workbench_panel(
            WorkbenchPanel(
                "approvals",
                gettext_lazy("待我审批"),
                "reports/home_approvals.html",
                approvals_panel,
                permission="approvals.view_approvalinstance",
                order=20,
                section="approver",
            )
        )
    register_workbench_panel(
        WorkbenchPanel(
            "management-kpis",
            gettext_lazy("经营概况（本月）"),
            "reports/home_kpis.html",
            management_panel,
            order=10,
            wide=True,
            section="management",
        )
    )
    register_workbench_panel(
        WorkbenchPanel(
            "figures",
            gettext_lazy("我的业务"),
            "reports/home_figures.html",
            figures_panel,
            order=30,
            wide=True,
        )
    )
