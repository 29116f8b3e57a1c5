"""The 工作台 panel of collections (registered when imported from ``CollectionsConfig.ready``).

催收员: today's queue — the user's active cases in the order the workbench works them (priority
first, as ``cases_filter`` orders) — and the promises to pay that fall due (today or earlier,
still pending). Three queries.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.collections import selectors
from credo.collections.models import CollectionCase
from credo.core import clock
from credo.core.money import fen_of
from credo.core.templatetags.money import yuan
from credo.core.ui.workbench import CARDS, WorkbenchPanel, register_workbench_panel

QUEUE = 5


def collector_panel(user: Any) -> dict[str, Any]:
    today = clock.today()
    active = selectors.cases_filter(selectors.cases_mine(user), {"status": "active"})
    agg = active.aggregate(
        n=Count("id"),
        untouched=Count("id", filter=Q(last_contact_at__isnull=True)),
        amount=Sum("amount"),
    )
    promises = selectors.promises_due().filter(case__in=active.order_by().values("pk"))
    due = promises.aggregate(
        n=Count("id"),
        today=Count("id", filter=Q(promised_date=today)),
        amount=Sum("amount"),
    )
    url = reverse("collections:workbench")
    rows = []
    for case in active[:QUEUE]:
        rows.append(
            {
                "key": f"case-{case.pk}",
                "label": f"{case.customer.name} · {case.loan.number}",
                "note": _("逾期 %(d)d 天 · %(t)s") % {"d": case.dpd, "t": case.get_tier_display()},
                "badge": case.get_status_display(),
                "tone": "orange" if case.status == CollectionCase.Status.PROMISED else "",
                "value": fen_of(case.amount),
                "fmt": "money",
                "url": reverse("collections:case_detail", args=[case.pk]),
            }
        )
    return {
        "items": [
            {
                "key": "queue",
                "label": _("今日队列"),
                "value": int(agg["n"] or 0),
                "url": url,
                "note": _("未联系 %(n)d 件") % {"n": int(agg["untouched"] or 0)},
            },
            {
                "key": "promises-due",
                "label": _("承诺到期"),
                "value": int(due["n"] or 0),
                "url": f"{url}?promise=due",
                "tone": "warning",
                "note": _("今天 %(t)d 件，合计 %(m)s 元")
                % {"t": int(due["today"] or 0), "m": yuan(fen_of(due["amount"]))},
            },
        ],
        "rows_title": _("按优先级处理"),
        "rows": rows,
        "rows_empty": _("今天没有待处理的催收案件。"),
        "more_url": url,
        "more_label": _("催收工作台"),
    }


register_workbench_panel(
    WorkbenchPanel(
        "collector-queue",
        gettext_lazy("今日催收"),
        CARDS,
        collector_panel,
        permission="collections.view_collectioncase",
        section="collector",
        order=10,
        wide=True,
    )
)
