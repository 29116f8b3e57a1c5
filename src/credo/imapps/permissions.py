"""Role grants: administrators configure the apps and run the sync."""

from credo.accounts.roles import register_role_permissions

register_role_permissions("admin", ["imapps.manage_imapps", "imapps.view_syncrun"])
