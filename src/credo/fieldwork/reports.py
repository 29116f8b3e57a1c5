"""Staff reports over field work: the visit and inspection datasets of the report engine
(报表 → 自定义报表), e.g. visits per account manager per month."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncDate, TruncMonth
from django.utils.translation import gettext_lazy as _

from credo.reports.datasets import Dataset, Dimension, Measure, register_dataset
from credo.reports.dimensions import choices, units, users


def _visits(user: Any) -> Any:
    from credo.fieldwork.selectors import visits_for

    return visits_for(user)


def _inspections(user: Any) -> Any:
    from credo.fieldwork.selectors import inspections_for

    return inspections_for(user)


register_dataset(
    Dataset(
        key="fieldwork_visits",
        label=_("走访签到"),
        base=_visits,
        permission="fieldwork.view_visit",
        description=_("客户经理走访签到：按人员、目的、月份统计走访次数与客户数。"),
        dimensions=[
            Dimension("owner", _("走访人"), "owner_id", "choice", users),
            Dimension("team", _("团队"), "team_id", "choice", units),
            Dimension(
                "purpose", _("走访目的"), "purpose", "choice", choices("fieldwork.Visit", "purpose")
            ),
            Dimension("month", _("走访月份"), (lambda: TruncMonth("visited_at")), "month"),
            Dimension("day", _("走访日期"), (lambda: TruncDate("visited_at")), "date"),
        ],
        date_dimension="month",
        measures=[
            Measure("count", _("走访次数"), lambda: Count("id")),
            Measure("customers", _("走访客户数"), lambda: Count("customer_id", distinct=True)),
            Measure("located", _("有定位"), lambda: Count("id", filter=Q(latitude__isnull=False))),
        ],
    )
)
register_dataset(
    Dataset(
        key="fieldwork_inspections",
        label=_("贷后检查"),
        base=_inspections,
        permission="fieldwork.view_inspection",
        description=_("贷后检查计划与完成情况：按检查人、状态、结论统计。"),
        dimensions=[
            Dimension("assignee", _("检查人"), "assignee_id", "choice", users),
            Dimension(
                "status", _("状态"), "status", "choice", choices("fieldwork.Inspection", "status")
            ),
            Dimension(
                "result", _("结论"), "result", "choice", choices("fieldwork.Inspection", "result")
            ),
            Dimension("kind", _("类型"), "kind", "choice", choices("fieldwork.Inspection", "kind")),
            Dimension("due_month", _("应检查月份"), (lambda: TruncMonth("due_date")), "month"),
        ],
        date_dimension="due_month",
        measures=[
            Measure("count", _("检查数"), lambda: Count("id")),
            Measure("completed", _("已完成"), lambda: Count("id", filter=Q(status="completed"))),
            Measure("failed", _("异常"), lambda: Count("id", filter=Q(result="fail"))),
            Measure("completion_rate", _("完成率"), fmt="pct", ratio_of=("completed", "count")),
        ],
    )
)
