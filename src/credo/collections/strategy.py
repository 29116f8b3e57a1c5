"""The collection strategy (decision ``collections.strategy``): DPD × amount × risk grade →
tier + action. Evaluated in batch after EOD with one published version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from credo.core.money import whole_yuan

KEY = "collections.strategy"
DEFAULT = Path(__file__).parent / "decision_tables" / "strategy.json"


def inputs_for(*, dpd: int, amount_fen: int, risk_grade: str) -> dict[str, Any]:
    # Whole yuan keep the table readable (">= 500000"); fen precision is irrelevant here.
    return {"dpd": int(dpd), "amount": whole_yuan(int(amount_fen)), "risk_grade": risk_grade or ""}


def spec() -> Any:
    from credo.rules.registry import DecisionSpec

    def case(name: str, dpd: int, amount: int, grade: str, tier: str) -> dict[str, Any]:
        return {
            "name": name,
            "input": {"dpd": dpd, "amount": amount, "risk_grade": grade},
            "expected": {"tier": tier},
        }

    return DecisionSpec(
        key=KEY,
        name=str(_("催收分层策略")),
        default=DEFAULT,
        description=str(_("按逾期天数、剩余本金和风险等级决定催收阶段与动作。")),
        inputs=[
            ("dpd", str(_("逾期天数"))),
            ("amount", str(_("剩余本金（元）"))),
            ("risk_grade", str(_("风险等级"))),
        ],
        outputs=[("tier", str(_("催收阶段"))), ("action", str(_("动作")))],
        sample={"dpd": 5, "amount": 100000, "risk_grade": "B"},
        tests=[
            case("未逾期", 0, 100000, "B", ""),
            case("逾期1天短信", 1, 100000, "B", "sms"),
            case("逾期3天短信", 3, 100000, "B", "sms"),
            case("逾期4天电话", 4, 100000, "B", "call_junior"),
            case("逾期10天电话", 10, 100000, "B", "call_junior"),
            case("逾期11天律师函", 11, 100000, "B", "senior_letter"),
            case("逾期30天律师函", 30, 100000, "B", "senior_letter"),
            case("逾期31天法务", 31, 100000, "B", "legal"),
            case("大额提前升级", 5, 600000, "B", "senior_letter"),
            case("高风险直接电话", 2, 100000, "E", "call_junior"),
        ],
    )
