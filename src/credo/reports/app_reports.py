"""Datasets and dashboard KPIs over the business apps above lending, declared as data.

Each :class:`AppReports` entry names the installed app it reads and what the reports offer over
it; :func:`register_optional` registers the entries whose app is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils.translation import gettext_lazy as _

from credo.reports.datasets import Dataset, Dimension, Measure, register_dataset
from credo.reports.dimensions import choices, cities, city, industries, users
from credo.reports.kpis import Kpi, register_kpi


def _leads_base(user: Any) -> Any:
    from credo.leads.selectors import leads_for

    return leads_for(user)


def _applications_base(user: Any) -> Any:
    from credo.origination.selectors import applications_for

    return applications_for(user)


def _cases_base(user: Any) -> Any:
    from credo.collections.selectors import cases_visible

    return cases_visible(user)


# Applications in these states count as approved (审批通过).
APPROVED_STATES = ["approved", "contract_sent", "signed", "loan_created"]


LEADS = Dataset(
    key="leads",
    label=_("线索"),
    base=_leads_base,
    permission="leads.view_lead",
    description=_("线索来源分析与转化漏斗：按阶段里程碑计数（到达过即计入）。"),
    dimensions=[
        Dimension(
            "source",
            _("来源渠道"),
            "source",
            "choice",
            choices("leads.Lead", "source"),
        ),
        Dimension("campaign", _("活动/推广计划"), "campaign"),
        Dimension("city", _("地市"), city("region_code"), "choice", cities),
        Dimension(
            "business_type",
            _("业务类型"),
            "business_type",
            "choice",
            choices("leads.Lead", "business_type"),
        ),
        Dimension("stage", _("阶段"), "stage", "choice", choices("leads.Lead", "stage")),
        Dimension("owner", _("客户经理"), "owner_id", "choice", users),
        Dimension("created_month", _("创建月份"), (lambda: TruncMonth("created_at")), "month"),
        Dimension(
            "created_week",
            _("创建周"),
            (lambda: TruncWeek("created_at")),
            "date",
        ),
    ],
    date_dimension="created_month",
    measures=[
        Measure("count", _("线索数"), lambda: Count("id")),
        Measure(
            "contacted",
            _("已联系"),
            lambda: Count("id", filter=Q(contacted_at__isnull=False)),
        ),
        Measure(
            "qualified",
            _("已确认需求"),
            lambda: Count("id", filter=Q(qualified_at__isnull=False)),
        ),
        Measure(
            "converted",
            _("已转化"),
            lambda: Count("id", filter=Q(converted_at__isnull=False)),
        ),
        Measure("lost", _("已流失"), lambda: Count("id", filter=Q(lost_at__isnull=False))),
        Measure("conversion_rate", _("转化率"), fmt="pct", ratio_of=("converted", "count")),
    ],
)


APPLICATIONS = Dataset(
    key="applications",
    label=_("贷款申请"),
    base=_applications_base,
    permission="origination.view_application",
    dimensions=[
        Dimension("product", _("产品"), "product_version__product__name"),
        Dimension(
            "status",
            _("状态"),
            "status",
            "choice",
            choices("origination.Application", "status"),
        ),
        Dimension("risk_grade", _("风险等级"), "risk_grade"),
        Dimension("industry", _("行业"), "customer__industry", "choice", industries),
        Dimension("city", _("地市"), city("customer__region_code"), "choice", cities),
        Dimension("owner", _("客户经理"), "owner_id", "choice", users),
        Dimension("created_month", _("申请月份"), (lambda: TruncMonth("created_at")), "month"),
    ],
    date_dimension="created_month",
    measures=[
        Measure("count", _("申请数"), lambda: Count("id")),
        Measure("amount", _("申请金额"), lambda: Sum("amount"), "money"),
        Measure("approved", _("获批数"), lambda: Count("id", filter=Q(status__in=APPROVED_STATES))),
        Measure(
            "admission_rejected",
            _("准入拒绝数"),
            lambda: Count("id", filter=Q(status="admission_rejected")),
        ),
        Measure("approval_rate", _("审批通过率"), fmt="pct", ratio_of=("approved", "count")),
    ],
)


COLLECTIONS = Dataset(
    key="collections",
    label=_("催收案件"),
    base=_cases_base,
    permission="collections.view_collectioncase",
    dimensions=[
        Dimension(
            "tier",
            _("催收阶段"),
            "tier",
            "choice",
            choices("collections.CollectionCase", "tier"),
        ),
        Dimension(
            "status",
            _("状态"),
            "status",
            "choice",
            choices("collections.CollectionCase", "status"),
        ),
        Dimension("assignee", _("催收员"), "assignee_id", "choice", users),
        Dimension(
            "close_reason",
            _("结案原因"),
            "close_reason",
            "choice",
            choices("collections.CollectionCase", "close_reason"),
        ),
        Dimension("opened_month", _("立案月份"), (lambda: TruncMonth("opened_on")), "month"),
    ],
    date_dimension="opened_month",
    measures=[
        Measure("count", _("案件数"), lambda: Count("id")),
        Measure("amount", _("剩余本金"), lambda: Sum("amount"), "money"),
        Measure("closed", _("已结案"), lambda: Count("id", filter=Q(status="closed"))),
        Measure(
            "paid",
            _("还清结案"),
            lambda: Count("id", filter=Q(status="closed", close_reason="paid")),
        ),
        Measure("cure_rate", _("回收结案率"), fmt="pct", ratio_of=("paid", "count")),
    ],
)


def _applications_kpi(user: Any, start: Any, end: Any) -> int:
    from credo.origination.selectors import applications_for

    return (
        applications_for(user)
        .filter(created_at__date__gte=start, created_at__date__lte=end)
        .count()
    )


def _approval_rate_kpi(user: Any, start: Any, end: Any) -> Any:
    from credo.origination.selectors import applications_for

    decided = applications_for(user).filter(decided_at__date__gte=start, decided_at__date__lte=end)
    agg = decided.aggregate(n=Count("id"), ok=Count("id", filter=Q(status__in=APPROVED_STATES)))
    return (
        (Decimal(agg["ok"]) / Decimal(agg["n"])).quantize(Decimal("0.0001")) if agg["n"] else None
    )


def _records_dataset() -> Dataset:
    """Custom records (表单引擎): declared as data in ``credo.records.reporting``."""
    from credo.records import reporting as r

    return Dataset(
        **r.DATASET,
        dimensions=[Dimension(*d) for d in r.DIMENSIONS],
        measures=[Measure(*m) for m in r.MEASURES],
        extra_dimensions=lambda user: [Dimension(*d) for d in r.extra_dimensions(user)],
    )


@dataclass(frozen=True)
class AppReports:
    """What the reports offer over one app's data: its dataset and dashboard KPIs."""

    app: str  # the installed app the dataset and KPIs read
    dataset: Dataset | None = None
    kpis: tuple[Kpi, ...] = ()


#: Datasets and KPIs over the business apps above lending, each naming the app it reads.
APP_REPORTS: tuple[AppReports, ...] = (
    AppReports("credo.leads", LEADS),
    AppReports(
        "credo.origination",
        APPLICATIONS,
        (
            Kpi(
                "applications",
                _("新增申请"),
                _applications_kpi,
                "int",
                "origination.view_application",
                "/origination/applications/",
                10,
            ),
            Kpi(
                "approval_rate",
                _("审批通过率"),
                _approval_rate_kpi,
                "pct",
                "origination.view_application",
                "/origination/applications/",
                20,
            ),
        ),
    ),
    AppReports("credo.collections", COLLECTIONS),
    AppReports("credo.records", _records_dataset()),
)


def register_optional() -> None:
    """Register the datasets and KPIs of :data:`APP_REPORTS` whose app is installed."""
    from django.apps import apps

    for entry in APP_REPORTS:
        if not apps.is_installed(entry.app):
            continue
        if entry.dataset is not None:
            register_dataset(entry.dataset)
        for kpi in entry.kpis:
            register_kpi(kpi)
