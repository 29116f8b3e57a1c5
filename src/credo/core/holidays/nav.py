"""Navigation entry of the holiday calendar (shown to whoever may view it)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("节假日"),
        "core:holidays",
        "calendar-event",
        "core.view_holiday",
        section="system",
        order=35,
    )
)
