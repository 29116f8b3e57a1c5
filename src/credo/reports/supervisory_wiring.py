"""What the supervisory reports (监管报表) hook into: the accounting period's close (freeze the
month), the role grants, the navigation, and the report engine — a ``supervisory`` dataset over
the latest frozen month, so a saved report of it is delivered by the existing scheduled-report
mechanism (定时报表) with the fixed-layout Excel as its attachment."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from credo.accounts.roles import register_role_permissions
from credo.core.ui.nav import NavItem, register_nav
from credo.lending.books.services import period_closed_hooks
from credo.reports import exporting
from credo.reports.datasets import Dataset, Dimension, Measure, register_dataset
from credo.reports.supervisory import VIEW_PERMISSION

logger = logging.getLogger(__name__)


@task(queue_name="default")
def freeze_month(month: str) -> int:
    """Freeze the supervisory summary of a closed month (enqueued after 结账)."""
    from credo.reports import supervisory

    period = supervisory.freeze(dt.date.fromisoformat(month), source="close")
    return int(period.totals.get("loans", 0))


def _on_period_closed(month: dt.date) -> None:
    freeze_month.enqueue(month.isoformat())


period_closed_hooks.register("reports.supervisory", _on_period_closed)

for _code in ("finance", "management", "risk_manager", "admin"):
    register_role_permissions(_code, [VIEW_PERMISSION])

register_nav(
    NavItem(
        _("监管报表"),
        "reports:supervisory",
        "building-bank",
        permission=VIEW_PERMISSION,
        section="reports",
        order=25,
    )
)


# --- the report engine's view of the frozen summaries ----------------------------------------------
def _latest_cells(user: Any) -> Any:
    from credo.reports.supervisory import latest_frozen
    from credo.reports.supervisory_models import SupervisoryCell

    latest = latest_frozen()
    return (
        SupervisoryCell.objects.filter(period__month=latest)
        if latest
        else SupervisoryCell.objects.none()
    )


def _table_labels() -> dict[str, str]:
    from credo.reports.supervisory import tables

    return {key: title for key, title, _b in tables()}


def _bucket_labels() -> dict[str, str]:
    from credo.reports.supervisory import tables

    labels: dict[str, str] = {}
    for _key, _title, buckets in tables():
        labels.update(dict(buckets))
    return labels


SUPERVISORY = Dataset(
    key="supervisory",
    label=_("监管报表（最近冻结月份）"),
    base=_latest_cells,
    permission=VIEW_PERMISSION,
    description=_(
        "最近一个已结账月份的监管报表汇总（按五级分类、期限、利率、借款人类型、担保方式、行业、"
        "地市）。定时发送的 Excel 为固定格式的《小额贷款公司贷款统计月报》。"
    ),
    dimensions=[
        Dimension("month", _("报表月份"), "period__month", "month"),
        Dimension("table", _("统计口径"), "table", "choice", _table_labels),
        Dimension("bucket", _("分组"), "bucket", "choice", _bucket_labels),
    ],
    date_dimension="month",
    measures=[
        Measure("loans", _("笔数"), lambda: Sum("loans")),
        Measure("balance", _("贷款余额"), lambda: Sum("balance"), "money"),
        Measure("overdue_balance", _("逾期贷款"), lambda: Sum("overdue_balance"), "money"),
        Measure("npl_balance", _("不良贷款"), lambda: Sum("npl_balance"), "money"),
        Measure("disbursed_amount", _("本月发放"), lambda: Sum("disbursed_amount"), "money"),
        Measure("repaid_principal", _("本月收回本金"), lambda: Sum("repaid_principal"), "money"),
    ],
)
register_dataset(SUPERVISORY)


def _fixed_xlsx(user: Any, result: Any, title: str) -> bytes:
    from credo.reports import supervisory
    from credo.reports.supervisory_export import to_xlsx

    latest = supervisory.latest_frozen()
    summary = supervisory.load(latest) if latest else None
    if summary is None:
        return exporting.to_xlsx(result, title)
    return to_xlsx(supervisory.build_report(summary))


exporting.fixed_xlsx_writers["supervisory"] = _fixed_xlsx
