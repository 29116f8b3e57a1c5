"""Navigation entry of webhooks (under 系统)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("Webhook 推送"),
        "webhooks:endpoints",
        "webhook",
        permission="webhooks.manage_webhookendpoint",
        section="system",
        order=63,
    )
)
