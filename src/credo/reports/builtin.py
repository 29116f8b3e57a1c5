"""The report engine's datasets over the lending core and customers, declared as data.

:data:`BUILTIN_DATASETS` are always registered; the datasets and KPIs over the apps above
lending (leads, applications, collections) are declared in :mod:`credo.reports.app_reports`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import gettext_lazy as _

from credo.reports.app_reports import register_optional
from credo.reports.datasets import Dataset, Dimension, Measure, register_dataset
from credo.reports.dimensions import (
    DPD_BUCKETS,
    choices,
    cities,
    city,
    customer_custom_dims,
    dpd_bucket,
    industries,
    loan_dims,
    users,
)

__all__ = ["BUILTIN_DATASETS", "register", "register_optional"]


def _loans_base(user: Any) -> Any:
    from credo.lending.selectors import loans_for

    return loans_for(user).exclude(status="pending")


def _installments_base(user: Any) -> Any:
    from credo.accounts.scope import scope_queryset
    from credo.lending.models import Installment

    return scope_queryset(
        Installment.objects.exclude(loan__status="pending"),
        user,
        owner_field="loan__owner",
        team_field="loan__team",
        branch_field="loan__branch",
    )


def _postings_base(user: Any) -> Any:
    from credo.accounts.scope import scope_queryset
    from credo.lending.models import Posting

    return scope_queryset(
        Posting.objects.filter(reversed_at__isnull=True),
        user,
        owner_field="loan__owner",
        team_field="loan__team",
        branch_field="loan__branch",
    )


def _customers_base(user: Any) -> Any:
    from credo.customers.selectors import customers_for

    return customers_for(user)


LOANS = Dataset(
    key="loans",
    label=_("贷款"),
    base=_loans_base,
    permission="lending.view_loan",
    description=_("已放款贷款：余额、逾期、五级分类（按日终结果）。"),
    dimensions=[
        *loan_dims(),
        Dimension("dpd_bucket", _("逾期档位"), dpd_bucket, "choice", DPD_BUCKETS),
    ],
    extra_dimensions=customer_custom_dims("customer__"),
    date_dimension="disbursed_month",
    measures=[
        Measure("count", _("笔数"), lambda: Count("id")),
        Measure("principal", _("放款金额"), lambda: Sum("principal"), "money"),
        Measure("outstanding", _("贷款余额"), lambda: Sum("outstanding_principal"), "money"),
        Measure("overdue_count", _("逾期笔数"), lambda: Count("id", filter=Q(dpd__gt=0))),
        Measure(
            "overdue_balance",
            _("逾期余额"),
            lambda: Coalesce(Sum("outstanding_principal", filter=Q(dpd__gt=0)), 0),
            "money",
        ),
        Measure(
            "m1_balance",
            _("M1+ 余额"),
            lambda: Coalesce(Sum("outstanding_principal", filter=Q(dpd__gt=30)), 0),
            "money",
        ),
        Measure(
            "m3_balance",
            _("M3+ 余额"),
            lambda: Coalesce(Sum("outstanding_principal", filter=Q(dpd__gt=90)), 0),
            "money",
        ),
        Measure(
            "overdue_rate_count",
            _("逾期率（笔数）"),
            fmt="pct",
            ratio_of=("overdue_count", "count"),
        ),
        Measure(
            "overdue_rate_balance",
            _("逾期率（余额）"),
            fmt="pct",
            ratio_of=("overdue_balance", "outstanding"),
        ),
        Measure("m1_rate", _("M1+ 逾期率"), fmt="pct", ratio_of=("m1_balance", "outstanding")),
        Measure("m3_rate", _("M3+ 逾期率"), fmt="pct", ratio_of=("m3_balance", "outstanding")),
    ],
)


INSTALLMENTS = Dataset(
    key="installments",
    label=_("还款计划"),
    base=_installments_base,
    permission="lending.view_loan",
    description=_("每期应还与实还：回款预测、回收率。"),
    dimensions=[
        *loan_dims("loan__"),
        Dimension("due_month", _("应还月份"), (lambda: TruncMonth("due_date")), "month"),
        Dimension("due_date", _("应还日期"), "due_date", "date"),
        Dimension(
            "inst_status",
            _("期次状态"),
            "status",
            "choice",
            choices("lending.Installment", "status"),
        ),
    ],
    date_dimension="due_month",
    measures=[
        Measure("count", _("期数"), lambda: Count("id")),
        Measure(
            "due_amount",
            _("应还金额"),
            lambda: Sum(F("principal_due") + F("interest_due") + F("fee_due")),
            "money",
        ),
        Measure(
            "paid_amount",
            _("已还金额"),
            lambda: Sum(F("principal_paid") + F("interest_paid") + F("fee_paid")),
            "money",
        ),
        Measure("principal_due", _("应还本金"), lambda: Sum("principal_due"), "money"),
        Measure("penalty_due", _("罚息"), lambda: Sum("penalty_due"), "money"),
        Measure(
            "collection_rate",
            _("回收率"),
            fmt="pct",
            ratio_of=("paid_amount", "due_amount"),
        ),
    ],
)


POSTINGS = Dataset(
    key="postings",
    label=_("还款入账"),
    base=_postings_base,
    permission="lending.view_loan",
    dimensions=[
        *loan_dims("loan__"),
        Dimension("received_month", _("到账月份"), (lambda: TruncMonth("received_on")), "month"),
        Dimension("received_on", _("到账日期"), "received_on", "date"),
        Dimension(
            "channel",
            _("渠道"),
            "channel",
            "choice",
            choices("lending.Posting", "channel"),
        ),
    ],
    date_dimension="received_month",
    measures=[
        Measure("count", _("笔数"), lambda: Count("id")),
        Measure("amount", _("还款金额"), lambda: Sum("amount"), "money"),
    ],
)


CUSTOMERS = Dataset(
    key="customers",
    label=_("客户"),
    base=_customers_base,
    permission="customers.view_customer",
    dimensions=[
        Dimension("kind", _("客户类型"), "kind", "choice", choices("customers.Customer", "kind")),
        Dimension("industry", _("行业"), "industry", "choice", industries),
        Dimension("city", _("地市"), city("region_code"), "choice", cities),
        Dimension(
            "status",
            _("状态"),
            "status",
            "choice",
            choices("customers.Customer", "status"),
        ),
        Dimension(
            "risk_grade",
            _("风险等级"),
            "risk_grade",
            "choice",
            choices("customers.Customer", "risk_grade"),
        ),
        Dimension("owner", _("客户经理"), "owner_id", "choice", users),
        Dimension("created_month", _("建档月份"), (lambda: TruncMonth("created_at")), "month"),
    ],
    extra_dimensions=customer_custom_dims(""),
    date_dimension="created_month",
    measures=[Measure("count", _("客户数"), lambda: Count("id"))],
)


#: Datasets over the lending core and customers, always registered.
BUILTIN_DATASETS: tuple[Dataset, ...] = (LOANS, INSTALLMENTS, POSTINGS, CUSTOMERS)


def register() -> None:
    for dataset in BUILTIN_DATASETS:
        register_dataset(dataset)
