"""Decisions of approvals: the route table (flow × amount × product × risk grade × branch →
approval route)."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from credo.rules.registry import DecisionSpec, register_decision

ROUTE = DecisionSpec(
    key="approvals.route",
    name=_("审批路径选择"),
    default=Path(__file__).parent / "decision_tables" / "route.json",
    description=_("按审批流、金额、产品、风险等级与机构选择审批路径"),
    inputs=[
        ("flow", _("审批流")),
        ("amount_yuan", _("金额（元）")),
        ("months", _("期限（月）")),
        ("product", _("产品")),
        # what origination passes: the published application scorecard's grade, else
        # the credit report's rules grade (origination.services._submit)
        ("risk_grade", _("风险等级（申请评分卡等级；未发布评分卡时为信用报告规则评级）")),
        ("branch", _("机构")),
    ],
    outputs=[("route", _("路径")), ("reason", _("原因"))],
    sample={
        "flow": "origination.application",
        "amount_yuan": 100000,
        "risk_grade": "B",
        "months": 12,
        "product": "",
        "branch": "",
    },
    tests=[
        {
            "name": "5 万 A 级自动审批",
            "input": {"amount_yuan": 50000, "risk_grade": "A"},
            "expected": {"route": "auto"},
        },
        {
            "name": "5 万 B 级标准审批",
            "input": {"amount_yuan": 50000, "risk_grade": "B"},
            "expected": {"route": "standard"},
        },
        {
            "name": "50 万标准审批",
            "input": {"amount_yuan": 500000, "risk_grade": "A"},
            "expected": {"route": "standard"},
        },
        {
            "name": "50 万以上会签",
            "input": {"amount_yuan": 500000.01, "risk_grade": "A"},
            "expected": {"route": "large"},
        },
    ],
)

register_decision(ROUTE)
