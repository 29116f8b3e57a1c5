"""The decision ``fieldwork.inspection_plan``: when a loan is inspected (贷后检查频率).

Inputs are the loan's five-class classification, the customer's risk grade and the outstanding
principal in whole yuan; outputs the days after disbursement of the first inspection, the days
between later inspections, and how many days before the due date the inspection is put on the
account manager's list. The lender edits and publishes it in 决策模型 like every other rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from credo.core.money import whole_yuan
from credo.rules.registry import DecisionSpec, register_decision

KEY = "fieldwork.inspection_plan"
DEFAULT = Path(__file__).resolve().parent / "decision_tables" / "plan.json"


def inputs_for(*, classification: str, risk_grade: str, amount_fen: int) -> dict[str, Any]:
    return {
        "classification": classification or "normal",
        "risk_grade": risk_grade or "",
        "amount": whole_yuan(int(amount_fen or 0)),
    }


def _case(name: str, cls: str, grade: str, amount: int, freq: int) -> dict[str, Any]:
    return {
        "name": name,
        "input": {"classification": cls, "risk_grade": grade, "amount": amount},
        "expected": {"first_within_days": 30, "frequency_days": freq, "notice_days": 10},
    }


register_decision(
    DecisionSpec(
        key=KEY,
        name=str(_("贷后检查计划")),
        default=DEFAULT,
        description=str(
            _(
                "放款后首次检查期限、之后的检查频率（按五级分类、风险等级与剩余本金）和提前生成天数。"
            )
        ),
        inputs=[
            ("classification", str(_("五级分类"))),
            ("risk_grade", str(_("风险等级"))),
            ("amount", str(_("剩余本金（元）"))),
        ],
        outputs=[
            ("first_within_days", str(_("首次检查（放款后天数）"))),
            ("frequency_days", str(_("检查频率（天）"))),
            ("notice_days", str(_("提前生成（天）"))),
        ],
        sample={"classification": "normal", "risk_grade": "B", "amount": 500000},
        tests=[
            _case("正常小额每半年", "normal", "B", 500000, 180),
            _case("百万以上每季度", "normal", "B", 1000000, 90),
            _case("三百万以上每两个月", "normal", "A", 3000000, 60),
            _case("风险等级E每两个月", "normal", "E", 100000, 60),
            _case("关注类每两个月", "special_mention", "A", 100000, 60),
            _case("次级每月", "substandard", "A", 100000, 30),
        ],
    )
)
