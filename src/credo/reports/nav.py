"""Navigation entries of the reports."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(NavItem(_("经营看板"), "reports:dashboard", "dashboard", section="reports", order=10))
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
