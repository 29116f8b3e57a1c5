"""The lead assignment decision table (edited in 规则 → 决策表; the default is
``decision_tables/assignment.json``)."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from credo.rules.registry import DecisionSpec, register_decision
from credo.rules.services import recorded_inputs

register_decision(
    DecisionSpec(
        key="leads.assignment",
        name=str(_("线索分配")),
        default=Path(__file__).resolve().parent / "decision_tables" / "assignment.json",
        description=str(
            _(
                "按地区（市级代码）、业务类型、意向金额（元）、来源渠道决定线索归属的团队"
                "或客户经理；团队内按 24 小时内分配数最少轮询，受在手上限约束。"
            )
        ),
        inputs=[
            ("region", str(_("地区（市级代码）"))),
            ("business_type", str(_("业务类型"))),
            ("amount", str(_("意向金额（元）"))),
            ("source", str(_("来源渠道"))),
        ],
        outputs=[
            ("team", str(_("团队编码"))),
            ("user", str(_("客户经理用户名"))),
            ("reason", str(_("原因"))),
        ],
        history=recorded_inputs("leads.assignment"),
        sample={"region": "140100", "business_type": "operating", "amount": 300000},
        tests=[
            {
                "name": "太原经营贷 → 太原一组",
                "input": {
                    "region": "140100",
                    "business_type": "operating",
                    "amount": 300000,
                    "source": "online",
                },
                "expected": {"team": "ty-a"},
            },
            {
                "name": "太原抵押贷 → 太原二组",
                "input": {"region": "140100", "business_type": "mortgage", "amount": 1},
                "expected": {"team": "ty-b"},
            },
            {
                "name": "大同 → 大同一组",
                "input": {"region": "140200", "business_type": "consumer", "amount": 1},
                "expected": {"team": "dt-a"},
            },
        ],
    )
)
