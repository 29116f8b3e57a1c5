"""Credit report (信用报告): bureau pull, internal history, exposure incl. related parties,
external flags, key ratios and a rules-based score/grade (decision ``origination.risk_score``):
信用报告规则评分 / 规则评级 — not the application scorecard's score/grade (申请评分卡 / 评分卡等级).
Which of the two routes an approval is decided in ``services.submission._submit``;
``routing_basis`` says it.

``risk_grade(customer)`` is the cheap variant used for approval routing: it never queries the
bureau (it uses the latest stored pull) and does not store an evaluation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import F, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credo.core import clock
from credo.core.money import fen_of
from credo.customers.models import Customer, DataKind, ExternalPull
from credo.lending.states import LOAN_OPEN_STATES

DECISION_KEY = "origination.risk_score"
DECISION_FILE = Path(__file__).parent / "decision_tables" / "risk_score.json"
GRADE_BANDS = [("A", 800), ("B", 700), ("C", 600), ("D", 500), ("E", 0)]
CLASS_RANK = {"normal": 0, "special_mention": 1, "substandard": 2, "doubtful": 3, "loss": 4}

_BASE_INPUT: dict[str, Any] = {
    "max_dpd": 0,
    "worst_classification": 0,
    "late_payments": 0,
    "judgment_debtor": False,
    "serious_litigation": False,
    "litigation_count": 0,
    "has_bureau": True,
    "bureau_score": 700,
    "bureau_overdue_accounts": 0,
    "bureau_queries_6m": 0,
    "flag_count": 0,
    "related_flag_count": 0,
    "debt_to_capital_pct": 0,
    "requested_to_revenue_pct": 0,
}


def grade_for(score: int) -> str:
    for grade, floor in GRADE_BANDS:
        if score >= floor:
            return grade
    return "E"


def register() -> None:
    """Declare the decision (called from an AppConfig.ready)."""
    from credo.rules.registry import DecisionSpec, get_spec, register_decision

    if get_spec(DECISION_KEY) is not None:
        return
    register_decision(
        DecisionSpec(
            key=DECISION_KEY,
            name=str(_("信用报告规则评分")),
            default=DECISION_FILE,
            description=str(
                _(
                    "扣分表（收集所有命中行）从 1000 分中扣减，"
                    "等级：A≥800，B≥700，C≥600，D≥500，其余 E。"
                )
            ),
            inputs=[
                ("max_dpd", str(_("历史最大逾期天数"))),
                ("worst_classification", str(_("最差五级分类（0 正常 – 4 损失）"))),
                ("late_payments", str(_("迟付/逾期期数"))),
                ("judgment_debtor", str(_("被执行人"))),
                ("serious_litigation", str(_("重大涉诉"))),
                ("litigation_count", str(_("涉诉数"))),
                ("has_bureau", str(_("有征信报告"))),
                ("bureau_score", str(_("征信评分"))),
                ("bureau_overdue_accounts", str(_("征信逾期账户数"))),
                ("bureau_queries_6m", str(_("近 6 个月查询次数"))),
                ("flag_count", str(_("风险标记数"))),
                ("related_flag_count", str(_("关联方风险标记数"))),
                ("debt_to_capital_pct", str(_("负债/注册资本（%）"))),
                ("requested_to_revenue_pct", str(_("申请金额/年营收（%）"))),
            ],
            outputs=[("score", str(_("信用报告规则评分"))), ("grade", str(_("规则评级")))],
            sample=dict(_BASE_INPUT),
            tests=[
                {
                    "name": "无不良记录 → A",
                    "input": dict(_BASE_INPUT),
                    "expected": {"score": 1000, "grade": "A"},
                },
                {
                    "name": "逾期 45 天 + 无征信 → A（800 分）",
                    "input": {**_BASE_INPUT, "max_dpd": 45, "has_bureau": False, "bureau_score": 0},
                    "expected": {"score": 800, "grade": "A"},
                },
                {
                    "name": "被执行人 + 逾期 45 天 + 无征信 → D",
                    "input": {
                        **_BASE_INPUT,
                        "max_dpd": 45,
                        "judgment_debtor": True,
                        "has_bureau": False,
                        "bureau_score": 0,
                    },
                    "expected": {"score": 500, "grade": "D"},
                },
                {
                    "name": "严重不良 → E",
                    "input": {
                        **_BASE_INPUT,
                        "max_dpd": 200,
                        "worst_classification": 3,
                        "judgment_debtor": True,
                        "serious_litigation": True,
                        "litigation_count": 2,
                    },
                    "expected": {"score": 20, "grade": "E"},
                },
            ],
        )
    )


# --- data gathering ------------------------------------------------------------------------
@dataclass
class CreditReport:
    customer: Customer
    generated_at: dt.datetime
    bureau: dict[str, Any]
    internal: dict[str, Any]
    exposure: dict[str, Any]
    flags: dict[str, Any]
    ratios: dict[str, Any]
    score: int
    grade: str
    deductions: list[dict[str, Any]] = field(default_factory=list)
    decision_version: str = ""
    decision_display: str = ""
    evaluation_id: int | None = None
    requested_amount_fen: int | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    routing: dict[str, Any] = field(default_factory=dict)


def _latest_pull(customer: Customer, kind: str) -> ExternalPull | None:
    return (
        ExternalPull.objects.filter(customer=customer, kind=kind, status=ExternalPull.Status.OK)
        .order_by("-requested_at", "-id")
        .first()
    )


def _bureau_section(customer: Customer, *, actor: Any, pull_if_needed: bool) -> dict[str, Any]:
    from credo.customers.external import external_pull, valid_authorization

    authorization = valid_authorization(customer, DataKind.BUREAU)
    if authorization is None:
        return {"status": "no_authorization", "data": {}, "pull": None, "authorization": None}
    pull = _latest_pull(customer, DataKind.BUREAU)
    reuse_days = int(getattr(settings, "CREDO_BUREAU_REUSE_DAYS", 30))
    fresh = pull is not None and pull.requested_at >= timezone.now() - dt.timedelta(days=reuse_days)
    if not fresh and pull_if_needed:
        pull = external_pull(customer=customer, kind=DataKind.BUREAU, actor=actor)
        if pull.status != ExternalPull.Status.OK:
            return {
                "status": "failed",
                "data": {},
                "pull": pull,
                "authorization": authorization,
                "error": pull.error,
            }
    if pull is None:
        return {"status": "not_pulled", "data": {}, "pull": None, "authorization": authorization}
    return {"status": "ok", "data": pull.parsed or {}, "pull": pull, "authorization": authorization}


def _loan_stats(customer_ids: list[int]) -> dict[int, dict[str, int]]:
    from credo.lending.models import Loan

    rows = (
        Loan.objects.filter(customer_id__in=customer_ids, status__in=LOAN_OPEN_STATES)
        .values("customer_id")
        .annotate(outstanding=Sum("outstanding_principal"), max_dpd=Max("dpd"))
    )
    return {
        r["customer_id"]: {"outstanding": int(r["outstanding"] or 0), "max_dpd": r["max_dpd"] or 0}
        for r in rows
    }


def _internal_section(customer: Customer) -> dict[str, Any]:
    from credo.lending.models import Installment, Loan

    loans = list(
        Loan.objects.filter(customer=customer)
        .exclude(status=Loan.Status.PENDING)
        .select_related("product_version__product")
        .order_by("-id")
    )
    installments = Installment.objects.filter(loan__customer=customer)
    today = clock.today()
    paid = installments.filter(status=Installment.Status.PAID)
    on_time = paid.filter(paid_on__lte=F("due_date")).count()
    late_paid = paid.filter(paid_on__gt=F("due_date")).count()
    overdue_now = installments.filter(status=Installment.Status.OVERDUE).count()
    due_total = installments.filter(due_date__lte=today).count()
    worst = max((CLASS_RANK.get(ln.classification, 0) for ln in loans), default=0)
    rows = [
        {
            "number": ln.number,
            "pk": ln.pk,
            "product": ln.product_version.product.name,
            "principal": fen_of(ln.principal),
            "outstanding": fen_of(ln.outstanding_principal),
            "status": ln.get_status_display(),
            "classification": ln.get_classification_display(),
            "dpd": ln.dpd,
            "start_date": ln.start_date,
            "maturity_date": ln.maturity_date,
        }
        for ln in loans
    ]
    return {
        "loans": rows,
        "loan_count": len(rows),
        "total_principal": sum(r["principal"] for r in rows),
        "outstanding": sum(
            r["outstanding"]
            for r, ln in zip(rows, loans, strict=True)
            if ln.status in LOAN_OPEN_STATES
        ),
        "max_dpd": max((ln.dpd for ln in loans), default=0),
        "overdue_loans": sum(1 for ln in loans if ln.dpd > 0 or ln.status == "overdue"),
        "overdue_installments": overdue_now,
        "on_time": on_time,
        "late": late_paid,
        "due_total": due_total,
        "worst_classification": worst,
        "worst_classification_label": Loan.Classification.choices[worst][1] if loans else "—",
    }


def _exposure_section(customer: Customer, own_outstanding: int, user: Any) -> dict[str, Any]:
    from credo.customers.selectors import related_parties
    from credo.customers.services import RISK_FLAGS

    parties = related_parties(customer, user)
    stats = _loan_stats([p.other.pk for p in parties])
    rows: list[dict[str, Any]] = []
    for p in parties:
        s = stats.get(p.other.pk, {"outstanding": 0, "max_dpd": 0})
        rows.append(
            {
                "name": p.other.name if p.visible else str(_("（无权查看）")),
                "pk": p.other.pk if p.visible else None,
                "relation": p.relation.get_kind_display(),
                "direction": p.direction,
                "outstanding": s["outstanding"],
                "max_dpd": s["max_dpd"],
                "flags": [RISK_FLAGS.get(f, f) for f in p.other.risk_flags],
            }
        )
    related_total = sum(r["outstanding"] for r in rows)
    return {
        "own": own_outstanding,
        "related": rows,
        "related_total": related_total,
        "total": own_outstanding + related_total,
        "related_flag_count": sum(len(r["flags"]) for r in rows),
    }


def _flags_section(customer: Customer) -> dict[str, Any]:
    from credo.customers.services import RISK_FLAGS

    lit = _latest_pull(customer, DataKind.LITIGATION)
    data = (lit.parsed or {}) if lit else {}
    return {
        "flags": [RISK_FLAGS.get(f, f) for f in customer.risk_flags],
        "flag_count": len(customer.risk_flags),
        "litigation_pulled": lit is not None,
        "litigation_count": int(data.get("litigation_count") or 0),
        "serious_litigation": bool(data.get("serious_litigation"))
        or "litigation" in customer.risk_flags,
        "judgment_debtor": bool(data.get("judgment_debtor"))
        or "judgment_debtor" in customer.risk_flags,
        "cases": data.get("cases") or [],
    }


def _pct(numerator: int, denominator: int) -> int | None:
    if not denominator:
        return None
    return round(numerator * 100 / denominator)


def _ratios(
    customer: Customer,
    *,
    internal: dict[str, Any],
    bureau: dict[str, Any],
    requested_amount_fen: int | None,
) -> dict[str, Any]:
    capital = fen_of(customer.registered_capital) if customer.registered_capital else 0
    bureau_balance = 0
    try:
        # Bureau balances are in yuan (vendor format); convert to fen.
        bureau_balance = int(float(bureau.get("data", {}).get("total_balance") or 0)) * 100
    except (TypeError, ValueError):
        bureau_balance = 0
    debt = internal["outstanding"] + bureau_balance
    revenue_yuan = (customer.custom or {}).get("annual_revenue")
    try:
        revenue = int(float(revenue_yuan) * 100) if revenue_yuan not in (None, "") else 0
    except (TypeError, ValueError):
        revenue = 0
    return {
        "debt": debt,
        "registered_capital": capital or None,
        "debt_to_capital_pct": _pct(debt, capital),
        "annual_revenue": revenue or None,
        "requested_amount": requested_amount_fen,
        "requested_to_revenue_pct": _pct(requested_amount_fen or 0, revenue)
        if requested_amount_fen
        else None,
        "overdue_ratio_pct": _pct(
            internal["late"] + internal["overdue_installments"], internal["due_total"]
        ),
    }


def _decision_input(
    *,
    internal: dict[str, Any],
    bureau: dict[str, Any],
    flags: dict[str, Any],
    exposure_flag_count: int,
    ratios: dict[str, Any],
) -> dict[str, Any]:
    data = bureau.get("data") or {}
    has_bureau = bureau.get("status") == "ok"

    def num(value: Any) -> int:
        try:
            return int(value or 0)
        except (TypeError, ValueError):
            return 0

    return {
        "max_dpd": internal["max_dpd"],
        "worst_classification": internal["worst_classification"],
        "late_payments": internal["late"] + internal["overdue_installments"],
        "judgment_debtor": flags["judgment_debtor"],
        "serious_litigation": flags["serious_litigation"],
        "litigation_count": flags["litigation_count"],
        "has_bureau": has_bureau,
        "bureau_score": num(data.get("score")) if has_bureau else 0,
        "bureau_overdue_accounts": num(data.get("overdue_accounts")) if has_bureau else 0,
        "bureau_queries_6m": num(data.get("queries_last_6m")) if has_bureau else 0,
        "flag_count": flags["flag_count"],
        "related_flag_count": exposure_flag_count,
        "debt_to_capital_pct": ratios["debt_to_capital_pct"] or 0,
        "requested_to_revenue_pct": ratios["requested_to_revenue_pct"] or 0,
    }


def _score(result: dict[str, Any]) -> tuple[int, str, list[dict[str, Any]]]:
    deductions: list[dict[str, Any]] = [
        {"deduction": int(d.get("deduction") or 0), "reason": str(d.get("reason") or "")}
        for d in (result.get("deductions") or [])
    ]
    if "score" in result:
        score = int(result["score"])
    else:  # a lender's edited model may only return the deductions
        score = max(0, 1000 - sum(d["deduction"] for d in deductions))
    grade = str(result.get("grade") or grade_for(score))
    return max(0, min(1000, score)), grade, deductions


def _gather(
    customer: Customer, *, actor: Any, pull: bool, requested_amount_fen: int | None
) -> tuple[dict[str, Any], ...]:
    bureau = _bureau_section(customer, actor=actor, pull_if_needed=pull)
    internal = _internal_section(customer)
    exposure = _exposure_section(customer, internal["outstanding"], actor)
    flags = _flags_section(customer)
    ratios = _ratios(
        customer, internal=internal, bureau=bureau, requested_amount_fen=requested_amount_fen
    )
    data = _decision_input(
        internal=internal,
        bureau=bureau,
        flags=flags,
        exposure_flag_count=exposure["related_flag_count"],
        ratios=ratios,
    )
    return bureau, internal, exposure, flags, ratios, data


def build_report(
    customer: Customer, *, actor: Any, requested_amount_fen: int | None = None
) -> CreditReport:
    """Assemble the full report; pulls the bureau (with a valid authorization) when no recent
    pull exists, and stores the score evaluation (model version + matched rows)."""
    from credo.rules.services import evaluate

    register()
    bureau, internal, exposure, flags, ratios, data = _gather(
        customer, actor=actor, pull=True, requested_amount_fen=requested_amount_fen
    )
    decision = evaluate(DECISION_KEY, data, subject=customer)
    score, grade, deductions = _score(decision.result)
    return CreditReport(
        customer=customer,
        generated_at=timezone.now(),
        bureau=bureau,
        internal=internal,
        exposure=exposure,
        flags=flags,
        ratios=ratios,
        score=score,
        grade=grade,
        deductions=deductions,
        decision_version=decision.version_label,
        decision_display=decision.version_display,
        evaluation_id=decision.evaluation.pk if decision.evaluation else None,
        requested_amount_fen=requested_amount_fen,
        inputs=data,
        routing=routing_basis(),
    )


def routing_basis() -> dict[str, Any]:
    """Which grade routes the approval of an application submitted now — the same choice as
    ``services.submission._submit``: the published scorecard's grade, else this report's rules grade."""
    from credo.origination.scoring import published_model

    card = published_model()
    if card is not None:
        return {
            "source": "scorecard",
            "label": str(_("申请评分卡等级")),
            "scorecard": f"{card.name} {card.label}",
        }
    return {"source": "rules", "label": str(_("信用报告规则评级")), "scorecard": ""}


def risk_grade(customer: Customer) -> tuple[int, str]:
    """(score 0–1000, grade A–E) from stored data only: no bureau query, no stored evaluation."""
    from credo.rules.services import evaluate

    register()
    _b, _i, _e, _f, _r, data = _gather(customer, actor=None, pull=False, requested_amount_fen=None)
    decision = evaluate(DECISION_KEY, data, record=False)
    score, grade, _d = _score(decision.result)
    return score, grade
