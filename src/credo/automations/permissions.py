"""Role grants of automations: the administrator configures and publishes them."""

from credo.accounts.roles import register_role_permissions

register_role_permissions("admin", ["automations.view_automation", "automations.manage_automation"])
register_role_permissions("management", ["automations.view_automation"])
