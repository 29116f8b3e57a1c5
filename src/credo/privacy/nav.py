"""Navigation entries of the privacy app."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("个人信息请求"),
        "privacy:request_list",
        "shield-lock",
        "privacy.handle_requests",
        "system",
        order=70,
    )
)
register_nav(
    NavItem(
        _("个人信息清单"),
        "privacy:inventory",
        "list-details",
        "privacy.view_inventory",
        "system",
        order=71,
    )
)
register_nav(
    NavItem(
        _("保留策略"),
        "privacy:retention",
        "trash-x",
        "privacy.view_retentionrun",
        "system",
        order=72,
    )
)
