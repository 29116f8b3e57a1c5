"""Role grants of webhooks: administrators manage endpoints and read the delivery log."""

from credo.accounts.roles import register_role_permissions

register_role_permissions(
    "admin", ["webhooks.manage_webhookendpoint", "webhooks.view_webhookendpoint"]
)
