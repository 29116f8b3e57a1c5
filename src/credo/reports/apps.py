from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "credo.reports"
    label = "reports"
    verbose_name = _("报表")

    def ready(self) -> None:
        from credo.accounts.roles import register_role_permissions
        from credo.core.scheduling.registry import register_schedule
        from credo.core.ui.nav import NavItem, register_nav
        from credo.lending.eod import register_eod_done_listener
        from credo.reports import builtin, kpis, workbench
        from credo.reports.tasks import after_eod

        builtin.register()
        builtin.register_optional()
        kpis.register_builtin()
        workbench.register()
        register_eod_done_listener(after_eod)
        try:
            from credo.notify.services import register_template
        except ImportError:  # notification channels not installed
            pass
        else:
            register_template(
                "reports.scheduled",
                name=str(_("定时报表")),
                subject="{{ report }}",
                body="{{ report }}：{{ rows }} 行数据（邮件附 Excel）。在线查看与下载：{{ url }}",
                channels=["inapp", "email", "wecom", "dingtalk"],
            )
        register_schedule("reports.deliver_due", "credo.reports.tasks.deliver_due", "*/5 * * * *")
        register_nav(
            NavItem(_("经营看板"), "reports:dashboard", "dashboard", section="reports", order=10)
        )
        register_nav(
            NavItem(_("报表中心"), "reports:list", "report-analytics", section="reports", order=20)
        )
        register_nav(
            NavItem(
                _("报表设计器"),
                "reports:builder",
                "chart-dots",
                permission="reports.build_report",
                section="reports",
                order=30,
            )
        )
        for code in (
            "team_lead",
            "risk_manager",
            "management",
            "admin",
            "finance",
            "credit_committee",
        ):
            register_role_permissions(code, ["reports.build_report", "reports.schedule_report"])
        for code in ("account_manager", "risk_analyst"):
            register_role_permissions(code, ["reports.build_report"])
