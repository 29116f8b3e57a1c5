"""Dimension building blocks shared by the report datasets: choice labels loaded lazily
(regions, industries, model choices, users, org units) and the loan dimensions."""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Concat, Substr, TruncMonth
from django.utils.translation import gettext_lazy as _

from credo.reports.datasets import Dimension


def cities() -> dict[str, str]:
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


def industries() -> dict[str, str]:
    from credo.customers.industries import INDUSTRY_SECTIONS

    return {code: str(label) for code, label in INDUSTRY_SECTIONS}


def choices(model_path: str, field: str) -> Any:
    def load() -> dict[str, str]:
        from django.apps import apps

        model = apps.get_model(model_path)
        return {k: str(v) for k, v in model._meta.get_field(field).choices}

    return load


def users() -> dict[int, str]:
    from credo.accounts.models import User

    return {
        pk: display or username
        for pk, display, username in User.objects.values_list("pk", "display_name", "username")
    }


def units() -> dict[int, str]:
    from credo.accounts.models import OrgUnit

    return dict(OrgUnit.objects.values_list("pk", "name"))


def city(path: str) -> Any:
    return lambda: Concat(Substr(path, 1, 4), Value("00"))


def customer_custom_dims(prefix: str) -> Any:
    def dims(user: Any) -> list[Dimension]:
        from credo.core.customfields.engine import filter_fields

        return [
            Dimension(
                f"cf_{f.key}",
                f.label,
                functools.partial(KeyTextTransform, f.key, f"{prefix}custom"),
            )
            for f in filter_fields("customer", user)
        ]

    return dims


def loan_dims(prefix: str = "") -> list[Dimension]:
    p = prefix
    return [
        Dimension("product", _("产品"), f"{p}product_version__product__name"),
        Dimension(
            "status", _("贷款状态"), f"{p}status", "choice", choices("lending.Loan", "status")
        ),
        Dimension(
            "classification",
            _("五级分类"),
            f"{p}classification",
            "choice",
            choices("lending.Loan", "classification"),
        ),
        Dimension(
            "method", _("还款方式"), f"{p}method", "choice", choices("lending.Loan", "method")
        ),
        Dimension("industry", _("行业"), f"{p}customer__industry", "choice", industries),
        Dimension("city", _("地市"), city(f"{p}customer__region_code"), "choice", cities),
        Dimension(
            "customer_kind",
            _("客户类型"),
            f"{p}customer__kind",
            "choice",
            choices("customers.Customer", "kind"),
        ),
        Dimension("owner", _("客户经理"), f"{p}owner_id", "choice", users),
        Dimension("team", _("团队"), f"{p}team_id", "choice", units),
        Dimension("branch", _("分支机构"), f"{p}branch_id", "choice", units),
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


def dpd_bucket(prefix: str = "") -> Any:
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
