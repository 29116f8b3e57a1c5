"""The 工作台 card of field work (registered when imported from ``FieldworkConfig.ready``).

客户经理: the post-loan inspections planned for the user (计划检查 / 已逾期), each a link to the
inspection list with the same filter; one aggregate over the list's own queryset.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from credo.core import clock
from credo.core.ui.workbench import CARDS, WorkbenchPanel, register_workbench_panel
from credo.fieldwork import selectors
from credo.fieldwork.models import Inspection


def planned_inspections(user: Any) -> dict[str, Any]:
    today = clock.today()
    planned = Q(status=Inspection.Status.PLANNED)
    agg = (
        selectors.inspections_for(user)
        .filter(assignee=user)
        .aggregate(
            planned=Count("id", filter=planned),
            overdue=Count("id", filter=planned & Q(due_date__lt=today)),
        )
    )
    url = reverse("fieldwork:inspection_list")
    return {
        "items": [
            {
                "key": "inspections-planned",
                "label": _("计划贷后检查"),
                "value": int(agg["planned"] or 0),
                "url": f"{url}?view=todo&mine=1",
            },
            {
                "key": "inspections-overdue",
                "label": _("逾期未检查"),
                "value": int(agg["overdue"] or 0),
                "url": f"{url}?view=overdue&mine=1",
                "tone": "danger",
            },
        ]
    }


register_workbench_panel(
    WorkbenchPanel(
        "am-inspections",
        _("贷后检查与走访"),
        CARDS,
        planned_inspections,
        permission="fieldwork.view_inspection",
        section="account_manager",
        order=50,
    )
)
