from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "credo.approvals"
    label = "approvals"
    verbose_name = _("审批流")

    def ready(self) -> None:
        from credo.accounts.roles import register_role_permissions
        from credo.core.scheduling.registry import register_schedule
        from credo.core.ui.nav import NavItem, register_nav
        from credo.rules.registry import DecisionSpec, register_decision

        # lazy labels: translated when shown (DecisionSpec is typed with plain str)
        spec: dict[str, Any] = dict(
            key="approvals.route",
            name=_("审批路径选择"),
            default=Path(__file__).parent / "decisions" / "route.json",
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
        register_decision(DecisionSpec(**spec))
        register_nav(
            NavItem(
                _("我的审批"),
                "approvals:inbox",
                "checkbox",
                permission="approvals.view_approvalinstance",
                section="work",
                order=15,
            )
        )
        register_nav(
            NavItem(
                _("审批流配置"),
                "approvals:flow_list",
                "git-branch",
                permission="approvals.manage_flows",
                section="system",
                order=60,
            )
        )
        register_schedule(
            "approvals.escalate", "credo.approvals.tasks.escalate_overdue", "*/15 * * * *"
        )
        for code in (
            "account_manager",
            "team_lead",
            "risk_manager",
            "credit_committee",
            "finance",
            "management",
            "admin",
        ):
            register_role_permissions(code, ["approvals.view_approvalinstance"])
        register_role_permissions(
            "admin", ["approvals.manage_flows", "approvals.view_approvalflow"]
        )
        from django.apps import apps

        if apps.is_installed("credo.notify"):
            from credo.notify.services import register_template

            register_template(
                "approvals.task_assigned",
                name=_("审批待办提醒"),
                subject="待审批：{{ title }}",
                body="您有一条待审批事项：{{ title }}（{{ route }} · {{ step }}），请及时处理。",
                channels=["inapp"],
                sample={
                    "title": "某某商贸 30 万经营贷",
                    "route": "标准审批",
                    "step": "风控经理审批",
                },
            )
            register_template(
                "approvals.returned",
                name=_("审批退回补充提醒"),
                subject="审批退回补充：{{ title }}",
                body="“{{ title }}”在“{{ step }}”被退回，需要补充：{{ question }}",
                channels=["inapp"],
                sample={
                    "title": "某某商贸 30 万经营贷",
                    "step": "风控经理审批",
                    "question": "请补充近半年银行流水",
                },
            )
