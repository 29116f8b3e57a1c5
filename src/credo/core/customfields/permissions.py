"""Role grants of custom fields."""

from credo.core.roles import register_role_permissions

register_role_permissions("admin", ["customfields.manage_custom_fields"])
