"""准入 (admission): the input of the ``origination.admission`` decision and its evaluation.

Input comes from the application, the customer, the latest successful external pulls
(registry / litigation) and lending (the customer's overdue loans). Pulled data wins over the
customer's own fields because it is what the registry says, not what was typed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from credo.core import clock
from credo.core.money import whole_yuan
from credo.rules.registry import DecisionSpec

KEY = "origination.admission"
DEFAULT = Path(__file__).resolve().parent / "decision_tables" / "admission.json"

GOOD = {
    "kind": "enterprise",
    "registered_capital": 5_000_000,
    "litigation_count": 0,
    "judgment_debtor": False,
    "industry": "F",
    "business_years": 8,
    "overdue_loans": 0,
    "amount": 300_000,
    "months": 12,
}

SPEC = DecisionSpec(
    key=KEY,
    name=str(_("贷款准入")),
    default=DEFAULT,
    description=str(
        _("提交申请时评估：任一拒绝规则命中即自动拒绝（准入不通过），并把命中规则作为原因。")
    ),
    inputs=[
        ("kind", str(_("客户类型"))),
        ("registered_capital", str(_("注册资本（元）"))),
        ("litigation_count", str(_("涉诉案件数"))),
        ("judgment_debtor", str(_("被执行人"))),
        ("industry", str(_("行业门类"))),
        ("business_years", str(_("成立年限（年）"))),
        ("overdue_loans", str(_("逾期贷款笔数"))),
        ("amount", str(_("申请金额（元）"))),
        ("months", str(_("期限（月）"))),
        ("score", str(_("评分卡分数（未发布评分卡时为空）"))),
        ("score_grade", str(_("评分卡等级"))),
    ],
    outputs=[("passed", str(_("准入通过"))), ("rejections", str(_("拒绝原因")))],
    sample=GOOD,
    tests=[
        {"name": "正常企业通过", "input": GOOD, "expected": {"passed": True, "rejections": []}},
        {
            "name": "注册资本不足 50 万拒绝",
            "input": {**GOOD, "registered_capital": 300_000},
            "expected": {
                "passed": False,
                "rejections": [{"code": "capital", "reason": "注册资本低于 50 万元"}],
            },
        },
        {
            "name": "被执行人拒绝",
            "input": {**GOOD, "judgment_debtor": True},
            "expected": {"passed": False},
        },
        {
            "name": "房地产业拒绝",
            "input": {**GOOD, "industry": "K"},
            "expected": {"passed": False},
        },
        {
            "name": "涉诉 3 件拒绝",
            "input": {**GOOD, "litigation_count": 3},
            "expected": {"passed": False},
        },
        {
            "name": "个人客户不看注册资本",
            "input": {**GOOD, "kind": "individual", "registered_capital": None},
            "expected": {"passed": True},
        },
    ],
)


def _years_between(start: dt.date | None, today: dt.date) -> float | None:
    if start is None:
        return None
    return round((today - start).days / 365.25, 2)


def _to_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def _to_yuan(value: Any) -> int | None:
    try:
        return int(Decimal(str(value)))
    except (ArithmeticError, TypeError, ValueError):
        return None


def build_input(
    application: Any,
    *,
    registry: dict[str, Any] | None = None,
    litigation: dict[str, Any] | None = None,
    overdue_loans: int = 0,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Pure: the decision input from an application plus already-fetched external data."""
    customer = application.customer
    today = today or clock.today()
    registry = registry or {}
    litigation = litigation or {}
    flags = set(customer.risk_flags or [])
    capital = _to_yuan(registry.get("registered_capital"))
    if capital is None and customer.registered_capital is not None:
        capital = whole_yuan(customer.registered_capital)
    founded = _to_date(registry.get("founded_on")) or customer.founded_on
    if litigation:
        count = int(litigation.get("litigation_count") or 0)
        debtor = bool(litigation.get("judgment_debtor"))
    else:
        count = 3 if "litigation" in flags else 0
        debtor = "judgment_debtor" in flags
    return {
        "kind": customer.kind,
        "registered_capital": capital,
        "litigation_count": count,
        "judgment_debtor": debtor or "judgment_debtor" in flags,
        "industry": customer.industry or "",
        "business_years": _years_between(founded, today),
        "overdue_loans": int(overdue_loans) + (1 if "overdue" in flags else 0),
        "amount": whole_yuan(application.amount),
        "months": application.months,
    }


def build_inputs(applications: Iterable[Any]) -> list[dict[str, Any]]:
    """Inputs for many applications with three queries in total (bench + batch re-evaluation)."""
    from credo.customers.models import DataKind, ExternalPull
    from credo.lending.models import Loan

    apps = list(applications)
    customer_ids = {a.customer_id for a in apps}
    latest: dict[tuple[int, str], dict[str, Any]] = {}
    pulls = (
        ExternalPull.objects.filter(
            customer_id__in=customer_ids,
            status=ExternalPull.Status.OK,
            kind__in=[DataKind.REGISTRY, DataKind.LITIGATION],
        )
        .order_by("customer_id", "kind", "-requested_at", "-id")
        .values_list("customer_id", "kind", "parsed")
    )
    for cid, kind, parsed in pulls:
        latest.setdefault((cid, kind), parsed or {})
    overdue = dict(
        Loan.objects.filter(customer_id__in=customer_ids)
        .filter(Q(status=Loan.Status.OVERDUE) | Q(dpd__gt=0))
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    today = clock.today()
    return [
        build_input(
            a,
            registry=latest.get((a.customer_id, DataKind.REGISTRY)),
            litigation=latest.get((a.customer_id, DataKind.LITIGATION)),
            overdue_loans=overdue.get(a.customer_id, 0),
            today=today,
        )
        for a in apps
    ]


EVALUATION_FIELDS = (
    "id",
    "number",
    "status",
    "amount",
    "months",
    "branch_id",
    "customer__id",
    "customer__kind",
    "customer__registered_capital",
    "customer__founded_on",
    "customer__industry",
    "customer__risk_flags",
    "product_version__id",
    "product_version__product__id",
    "product_version__product__code",
)


def applications_for_evaluation(ids: Iterable[int]) -> Any:
    from credo.origination.models import Application

    # Only the columns admission and routing read (build_input, the route input): loading whole
    # customers (encrypted fields, custom data) cost more than evaluating them (issue 24).
    return (
        Application.objects.filter(id__in=list(ids))
        .select_related("customer", "product_version__product")
        .only(*EVALUATION_FIELDS)
    )


def reasons_of(result: dict[str, Any]) -> list[dict[str, str]]:
    rows = result.get("rejections") or []
    if isinstance(rows, dict):
        rows = [rows]
    return [
        {"code": str(r.get("code", "")), "reason": str(r.get("reason", ""))}
        for r in rows
        if isinstance(r, dict)
    ]


def passed_of(result: dict[str, Any]) -> bool:
    if "passed" in result:
        return bool(result["passed"])
    return not reasons_of(result)
