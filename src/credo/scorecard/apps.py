from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScorecardConfig(AppConfig):
    name = "credo.scorecard"
    label = "scorecard"
    verbose_name = _("评分卡")

    def ready(self) -> None:
        from credo.accounts.roles import register_role_permissions
        from credo.core.scheduling.registry import register_schedule
        from credo.core.ui.nav import NavItem, register_nav
        from credo.scorecard import demo

        register_nav(
            NavItem(
                _("评分卡"),
                "scorecard:list",
                "gauge",
                permission="scorecard.view_scorecard",
                section="risk",
                order=50,
            )
        )
        register_nav(
            NavItem(
                _("风险洞察"),
                "scorecard:insight",
                "bulb",
                permission="scorecard.view_scorecard",
                section="risk",
                order=55,
            )
        )
        for code in ("risk_analyst", "risk_manager", "management", "credit_committee"):
            register_role_permissions(code, ["scorecard.view_scorecard"])
        for code in ("risk_analyst", "risk_manager"):
            register_role_permissions(code, ["scorecard.train_scorecard"])
        register_role_permissions("risk_manager", ["scorecard.publish_scorecard"])
        register_schedule("scorecard.psi_monthly", "credo.scorecard.tasks.psi_monthly", "0 6 1 * *")
        demo.register()
        try:
            from credo.notify.services import register_template
        except ImportError:  # notification app not installed
            return
        register_template(
            "scorecard.psi_alert",
            name=str(_("评分卡稳定性预警")),
            subject="{{ title }}",
            body=str(_("{{ title }}。请复核模型或重新训练：{{ url }}")),
            channels=["inapp", "email", "wecom", "dingtalk"],
            sample={
                "title": "评分卡 v1 稳定性预警：2026-10 PSI 0.31 超过 0.25",
                "url": "/scorecard/1/",
            },
        )
