"""Navigation entry of 押品管理 (registered when the app is ready)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("押品管理"),
        "collateral:list",
        "building-bank",
        permission="collateral.view_collateral",
        section="lending",
        order=8,
    )
)
