"""Navigation entries of origination (registered when the app is ready)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("贷款申请"),
        "origination:list",
        "file-description",
        permission="origination.view_application",
        section="lending",
        order=5,
    )
)
