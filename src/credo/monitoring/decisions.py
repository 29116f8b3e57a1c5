"""Decisions of monitoring: the risk rules (indicators → alerts) and the retention triggers."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from credo.rules.registry import DecisionSpec, register_decision

DECISIONS = Path(__file__).resolve().parent / "decision_tables"

_BASE = {
    "dpd": 0,
    "partial_streak": 0,
    "payment_drop_pct": 0,
    "inflow_drop_pct": 0,
    "related_overdue": False,
    "judgment_debtor": False,
    "new_litigation": False,
    "days_since_payment": 10,
    "negative_news": False,
    "related_judgment_debtor": False,
}


def _hit(code: str, name: str, severity: str, sla: int) -> dict[str, object]:
    return {"code": code, "name": name, "severity": severity, "sla_hours": sla}


ind = [
    ("dpd", _("逾期天数")),
    ("partial_streak", _("连续未按时足额还款期数")),
    ("payment_drop_pct", _("还款金额降幅（%）")),
    ("inflow_drop_pct", _("流入降幅（%）")),
    ("related_overdue", _("关联方逾期")),
    ("judgment_debtor", _("被执行人")),
    ("new_litigation", _("新增涉诉")),
    ("days_since_payment", _("距上次还款天数")),
    ("negative_news", _("负面舆情")),
    ("related_judgment_debtor", _("关联方被执行")),
]
register_decision(
    DecisionSpec(
        key="monitoring.rules",
        name=str(_("贷后监控规则")),
        default=DECISIONS / "rules.json",
        description=str(_("风险指标 → 预警（规则编码、名称、严重程度、处理时限）")),
        inputs=[(f, str(label)) for f, label in ind],
        outputs=[("hits", str(_("命中规则列表")))],
        sample=dict(_BASE),
        tests=[
            {"name": "正常贷款无预警", "input": dict(_BASE), "expected": {"hits": []}},
            {
                "name": "逾期30天",
                "input": {**_BASE, "dpd": 30},
                "expected": {"hits": [_hit("dpd_30", "逾期30天以上", "high", 24)]},
            },
            {
                "name": "逾期29天不预警",
                "input": {**_BASE, "dpd": 29},
                "expected": {"hits": []},
            },
            {
                "name": "被执行人",
                "input": {**_BASE, "judgment_debtor": True},
                "expected": {"hits": [_hit("judgment_debtor", "被列为被执行人", "critical", 8)]},
            },
        ],
    )
)
register_decision(
    DecisionSpec(
        key="retention.triggers",
        name=str(_("客户维护触发")),
        default=DECISIONS / "retention.json",
        description=str(_("续贷邀请与优质客户（提额建议）")),
        inputs=[
            ("paid_off", str(_("已结清"))),
            ("installments_left", str(_("剩余期数"))),
            ("late_12m", str(_("近12个月逾期期数"))),
            ("on_time_pct", str(_("近12个月按时还款率（%）"))),
        ],
        outputs=[("triggers", str(_("触发列表（trigger/name/increase_pct/per）")))],
        sample={
            "paid_off": False,
            "installments_left": 2,
            "late_12m": 0,
            "on_time_pct": 100,
        },
        tests=[
            {
                "name": "剩余2期无逾期：续贷邀请+优质客户",
                "input": {
                    "paid_off": False,
                    "installments_left": 2,
                    "late_12m": 0,
                    "on_time_pct": 100,
                },
                "expected": {
                    "triggers": [
                        {
                            "trigger": "renewal",
                            "name": "续贷邀请",
                            "increase_pct": 0,
                            "per": "loan",
                        },
                        {
                            "trigger": "good_customer",
                            "name": "优质客户",
                            "increase_pct": 20,
                            "per": "customer_year",
                        },
                    ]
                },
            },
            {
                "name": "有逾期不触发",
                "input": {
                    "paid_off": True,
                    "installments_left": 0,
                    "late_12m": 1,
                    "on_time_pct": 90,
                },
                "expected": {"triggers": []},
            },
        ],
    )
)


def _push(inapp: bool, preferred: bool, digest: bool, sla: int, priority: int) -> dict[str, object]:
    return {
        "inapp": inapp,
        "preferred": preferred,
        "digest": digest,
        "sla_hours": sla,
        "stop_on": "acknowledged",
        "escalate_to": "team_lead,management",
        "priority": priority,
        "default_assignee": "",
    }


register_decision(
    DecisionSpec(
        key="monitoring.alert_push",
        name=str(_("预警推送与处理时限")),
        default=DECISIONS / "push.json",
        description=str(
            _(
                "按严重程度：通知渠道（站内消息 / 偏好渠道 / 每日汇总）、处理时限（小时）、"
                "超时升级的停止条件与升级对象、待办优先级、没有风控经理时的默认处理人"
            )
        ),
        inputs=[("severity", str(_("严重程度")))],
        outputs=[
            ("inapp", str(_("站内消息"))),
            ("preferred", str(_("偏好渠道"))),
            ("digest", str(_("每日汇总"))),
            ("sla_hours", str(_("处理时限（小时）"))),
            ("stop_on", str(_("停止计时的状态（acknowledged / closed）"))),
            ("escalate_to", str(_("升级对象（角色编码，逗号分隔，依次）"))),
            ("priority", str(_("待办优先级（10 低 / 20 普通 / 30 高）"))),
            ("default_assignee", str(_("默认处理人（用户名）"))),
        ],
        sample={"severity": "high"},
        tests=[
            {
                "name": "严重：偏好渠道+站内，4小时",
                "input": {"severity": "critical"},
                "expected": _push(True, True, False, 4, 30),
            },
            {
                "name": "高：偏好渠道+站内，24小时",
                "input": {"severity": "high"},
                "expected": _push(True, True, False, 24, 30),
            },
            {
                "name": "中：站内+每日汇总，72小时",
                "input": {"severity": "medium"},
                "expected": _push(True, False, True, 72, 20),
            },
            {
                "name": "低：仅站内，7天",
                "input": {"severity": "low"},
                "expected": _push(True, False, False, 168, 10),
            },
        ],
    )
)
