"""Navigation entries of field work."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("贷后检查"),
        "fieldwork:inspection_list",
        "clipboard-check",
        "fieldwork.view_inspection",
        "work",
        order=40,
    )
)
register_nav(
    NavItem(
        _("走访签到"), "fieldwork:visit_list", "map-pin", "fieldwork.view_visit", "work", order=41
    )
)
