"""Navigation entries of monitoring (registered when the app is ready)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("预警"),
        "monitoring:alert_list",
        "alert-triangle",
        permission="monitoring.view_alert",
        section="risk",
        order=30,
    )
)
register_nav(
    NavItem(
        _("客户维护"),
        "monitoring:retention",
        "heart-handshake",
        permission="monitoring.manage_retention",
        section="risk",
        order=40,
    )
)
