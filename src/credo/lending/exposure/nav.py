"""Navigation entries of 集中度管理 (imported by lending's nav)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("集中度报表"),
        "lending:exposure:report",
        "chart-pie",
        permission="lending.view_exposure",
        section="lending",
        order=76,
    )
)
register_nav(
    NavItem(
        _("净资产与集中度限额"),
        "lending:exposure:net_assets",
        "building-bank",
        permission="lending.manage_exposure",
        section="lending",
        order=78,
    )
)
