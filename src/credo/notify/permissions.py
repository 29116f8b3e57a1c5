"""Role grants of notify."""

from credo.accounts.roles import register_role_permissions

register_role_permissions("admin", ["notify.manage_channels", "notify.view_message"])
register_role_permissions("management", ["notify.view_message"])
