"""Navigation entry of automations."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("自动化"),
        "automations:list",
        "robot",
        permission="automations.view_automation",
        section="system",
        order=55,
    )
)
