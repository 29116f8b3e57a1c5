"""Role grants of user, role and org-unit administration."""

from credo.accounts.roles import register_role_permissions

register_role_permissions(
    "admin",
    ["accounts.manage_users", "accounts.manage_roles", "accounts.manage_org_units"],
)
