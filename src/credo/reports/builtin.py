"""Datasets over the lending core and customers (other apps register their own)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q, Sum, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Concat, Substr, TruncMonth, TruncWeek
from django.utils.translation import gettext_lazy as _

from credo.reports.datasets import Dataset, Dimension, Measure, register_dataset


def _cities() -> dict[str, str]:
    from credo.core.regions import get_region

    names: dict[str, str] = {}

    def name(code: str) -> str:
        if code not in names:
            region = get_region(code)
            names[code] = region.name if region else code
        return names[code]

    class Lazy(dict[str, str]):
        def get(self, key: Any, default: Any = None) -> Any:
            if not key:
                return default
            return name(str(key))

    return Lazy()


def _industries() -> dict[str, str]:
    from credo.customers.industries import INDUSTRY_SECTIONS

    return {code: str(label) for code, label in INDUSTRY_SECTIONS}


def _choices(model_path: str, field: str) -> Any:
    def load() -> dict[str, str]:
        from django.apps import apps

        model = apps.get_model(model_path)
        return {k: str(v) for k, v in model._meta.get_field(field).choices}

    return load


def _users() -> dict[int, str]:
    from credo.accounts.models import User

    return {
        pk: display or username
        for pk, display, username in User.objects.values_list("pk", "display_name", "username")
    }


def _units() -> dict[int, str]:
    from credo.accounts.models import OrgUnit

    return dict(OrgUnit.objects.values_list("pk", "name"))


def _city(path: str) -> Any:
    return lambda: Concat(Substr(path, 1, 4), Value("00"))


def _customer_custom_dims(prefix: str) -> Any:
    def dims(user: Any) -> list[Dimension]:
        from credo.core.customfields.engine import filter_fields

        return [
            Dimension(
                f"cf_{f.key}",
                f.label,
                (lambda key=f.key: KeyTextTransform(key, f"{prefix}custom")),
            )
            for f in filter_fields("customer", user)
        ]

    return dims


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


def _loan_dims(prefix: str = "") -> list[Dimension]:
    p = prefix
    return [
        Dimension("product", _("产品"), f"{p}product_version__product__name"),
        Dimension(
            "status", _("贷款状态"), f"{p}status", "choice", _choices("lending.Loan", "status")
        ),
        Dimension(
            "classification",
            _("五级分类"),
            f"{p}classification",
            "choice",
            _choices("lending.Loan", "classification"),
        ),
        Dimension(
            "method", _("还款方式"), f"{p}method", "choice", _choices("lending.Loan", "method")
        ),
        Dimension("industry", _("行业"), f"{p}customer__industry", "choice", _industries),
        Dimension("city", _("地市"), _city(f"{p}customer__region_code"), "choice", _cities),
        Dimension(
            "customer_kind",
            _("客户类型"),
            f"{p}customer__kind",
            "choice",
            _choices("customers.Customer", "kind"),
        ),
        Dimension("owner", _("客户经理"), f"{p}owner_id", "choice", _users),
        Dimension("team", _("团队"), f"{p}team_id", "choice", _units),
        Dimension("branch", _("分支机构"), f"{p}branch_id", "choice", _units),
        Dimension(
            "disbursed_month", _("放款月份"), (lambda: TruncMonth(f"{p}start_date")), "month"
        ),
    ]


DPD_BUCKETS = {
    "C": _("正常（未逾期）"),
    "M1": _("M1（1–30 天）"),
    "M2": _("M2（31–60 天）"),
    "M3": _("M3（61–90 天）"),
    "M4+": _("M4+（90 天以上）"),
}


def _dpd_bucket(prefix: str = "") -> Any:
    from django.db.models import Case, CharField, When

    dpd = f"{prefix}dpd"
    return Case(
        When(**{f"{dpd}__lte": 0}, then=Value("C")),
        When(**{f"{dpd}__lte": 30}, then=Value("M1")),
        When(**{f"{dpd}__lte": 60}, then=Value("M2")),
        When(**{f"{dpd}__lte": 90}, then=Value("M3")),
        default=Value("M4+"),
        output_field=CharField(),
    )


def register() -> None:
    register_dataset(
        Dataset(
            key="loans",
            label=_("贷款"),
            base=_loans_base,
            permission="lending.view_loan",
            description=_("已放款贷款：余额、逾期、五级分类（按日终结果）。"),
            dimensions=[
                *_loan_dims(),
                Dimension("dpd_bucket", _("逾期档位"), _dpd_bucket, "choice", DPD_BUCKETS),
            ],
            extra_dimensions=_customer_custom_dims("customer__"),
            date_dimension="disbursed_month",
            measures=[
                Measure("count", _("笔数"), lambda: Count("id")),
                Measure("principal", _("放款金额"), lambda: Sum("principal"), "money"),
                Measure(
                    "outstanding", _("贷款余额"), lambda: Sum("outstanding_principal"), "money"
                ),
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
                Measure(
                    "m1_rate", _("M1+ 逾期率"), fmt="pct", ratio_of=("m1_balance", "outstanding")
                ),
                Measure(
                    "m3_rate", _("M3+ 逾期率"), fmt="pct", ratio_of=("m3_balance", "outstanding")
                ),
            ],
        )
    )
    register_dataset(
        Dataset(
            key="installments",
            label=_("还款计划"),
            base=_installments_base,
            permission="lending.view_loan",
            description=_("每期应还与实还：回款预测、回收率。"),
            dimensions=[
                *_loan_dims("loan__"),
                Dimension("due_month", _("应还月份"), (lambda: TruncMonth("due_date")), "month"),
                Dimension("due_date", _("应还日期"), "due_date", "date"),
                Dimension(
                    "inst_status",
                    _("期次状态"),
                    "status",
                    "choice",
                    _choices("lending.Installment", "status"),
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
    )
    register_dataset(
        Dataset(
            key="postings",
            label=_("还款入账"),
            base=_postings_base,
            permission="lending.view_loan",
            dimensions=[
                *_loan_dims("loan__"),
                Dimension(
                    "received_month", _("到账月份"), (lambda: TruncMonth("received_on")), "month"
                ),
                Dimension("received_on", _("到账日期"), "received_on", "date"),
                Dimension(
                    "channel",
                    _("渠道"),
                    "channel",
                    "choice",
                    _choices("lending.Posting", "channel"),
                ),
            ],
            date_dimension="received_month",
            measures=[
                Measure("count", _("笔数"), lambda: Count("id")),
                Measure("amount", _("还款金额"), lambda: Sum("amount"), "money"),
            ],
        )
    )
    register_dataset(
        Dataset(
            key="customers",
            label=_("客户"),
            base=_customers_base,
            permission="customers.view_customer",
            dimensions=[
                Dimension(
                    "kind", _("客户类型"), "kind", "choice", _choices("customers.Customer", "kind")
                ),
                Dimension("industry", _("行业"), "industry", "choice", _industries),
                Dimension("city", _("地市"), _city("region_code"), "choice", _cities),
                Dimension(
                    "status",
                    _("状态"),
                    "status",
                    "choice",
                    _choices("customers.Customer", "status"),
                ),
                Dimension(
                    "risk_grade",
                    _("风险等级"),
                    "risk_grade",
                    "choice",
                    _choices("customers.Customer", "risk_grade"),
                ),
                Dimension("owner", _("客户经理"), "owner_id", "choice", _users),
                Dimension(
                    "created_month", _("建档月份"), (lambda: TruncMonth("created_at")), "month"
                ),
            ],
            extra_dimensions=_customer_custom_dims(""),
            date_dimension="created_month",
            measures=[Measure("count", _("客户数"), lambda: Count("id"))],
        )
    )


def _leads_base(user: Any) -> Any:
    from credo.leads.selectors import leads_for

    return leads_for(user)


def _applications_base(user: Any) -> Any:
    from credo.origination.selectors import applications_for

    return applications_for(user)


def _cases_base(user: Any) -> Any:
    from credo.collections.selectors import cases_visible

    return cases_visible(user)


def register_optional() -> None:
    """Datasets and KPIs of the apps that may not be installed (each registered only if so)."""
    from django.apps import apps

    if apps.is_installed("credo.leads"):
        register_dataset(
            Dataset(
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
                        _choices("leads.Lead", "source"),
                    ),
                    Dimension("campaign", _("活动/推广计划"), "campaign"),
                    Dimension("city", _("地市"), _city("region_code"), "choice", _cities),
                    Dimension(
                        "business_type",
                        _("业务类型"),
                        "business_type",
                        "choice",
                        _choices("leads.Lead", "business_type"),
                    ),
                    Dimension(
                        "stage", _("阶段"), "stage", "choice", _choices("leads.Lead", "stage")
                    ),
                    Dimension("owner", _("客户经理"), "owner_id", "choice", _users),
                    Dimension(
                        "created_month", _("创建月份"), (lambda: TruncMonth("created_at")), "month"
                    ),
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
                    Measure(
                        "lost", _("已流失"), lambda: Count("id", filter=Q(lost_at__isnull=False))
                    ),
                    Measure(
                        "conversion_rate", _("转化率"), fmt="pct", ratio_of=("converted", "count")
                    ),
                ],
            )
        )
    if apps.is_installed("credo.origination"):
        approved = ["approved", "contract_sent", "signed", "loan_created"]
        register_dataset(
            Dataset(
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
                        _choices("origination.Application", "status"),
                    ),
                    Dimension("risk_grade", _("风险等级"), "risk_grade"),
                    Dimension("industry", _("行业"), "customer__industry", "choice", _industries),
                    Dimension("city", _("地市"), _city("customer__region_code"), "choice", _cities),
                    Dimension("owner", _("客户经理"), "owner_id", "choice", _users),
                    Dimension(
                        "created_month", _("申请月份"), (lambda: TruncMonth("created_at")), "month"
                    ),
                ],
                date_dimension="created_month",
                measures=[
                    Measure("count", _("申请数"), lambda: Count("id")),
                    Measure("amount", _("申请金额"), lambda: Sum("amount"), "money"),
                    Measure(
                        "approved", _("获批数"), lambda: Count("id", filter=Q(status__in=approved))
                    ),
                    Measure(
                        "admission_rejected",
                        _("准入拒绝数"),
                        lambda: Count("id", filter=Q(status="admission_rejected")),
                    ),
                    Measure(
                        "approval_rate", _("审批通过率"), fmt="pct", ratio_of=("approved", "count")
                    ),
                ],
            )
        )
        from credo.reports.kpis import Kpi, register_kpi

        def applications(user: Any, start: Any, end: Any) -> int:
            from credo.origination.selectors import applications_for

            return (
                applications_for(user)
                .filter(created_at__date__gte=start, created_at__date__lte=end)
                .count()
            )

        def approval_rate(user: Any, start: Any, end: Any) -> Any:
            from decimal import Decimal

            from credo.origination.selectors import applications_for

            decided = applications_for(user).filter(
                decided_at__date__gte=start, decided_at__date__lte=end
            )
            agg = decided.aggregate(n=Count("id"), ok=Count("id", filter=Q(status__in=approved)))
            return (
                (Decimal(agg["ok"]) / Decimal(agg["n"])).quantize(Decimal("0.0001"))
                if agg["n"]
                else None
            )

        register_kpi(
            Kpi(
                "applications",
                _("新增申请"),
                applications,
                "int",
                "origination.view_application",
                "/origination/applications/",
                10,
            )
        )
        register_kpi(
            Kpi(
                "approval_rate",
                _("审批通过率"),
                approval_rate,
                "pct",
                "origination.view_application",
                "/origination/applications/",
                20,
            )
        )
    if apps.is_installed("credo.collections"):
        register_dataset(
            Dataset(
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
                        _choices("collections.CollectionCase", "tier"),
                    ),
                    Dimension(
                        "status",
                        _("状态"),
                        "status",
                        "choice",
                        _choices("collections.CollectionCase", "status"),
                    ),
                    Dimension("assignee", _("催收员"), "assignee_id", "choice", _users),
                    Dimension(
                        "close_reason",
                        _("结案原因"),
                        "close_reason",
                        "choice",
                        _choices("collections.CollectionCase", "close_reason"),
                    ),
                    Dimension(
                        "opened_month", _("立案月份"), (lambda: TruncMonth("opened_on")), "month"
                    ),
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
        )
