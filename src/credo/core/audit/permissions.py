"""Role grants of the audit log."""

from credo.core.roles import register_role_permissions

register_role_permissions("admin", ["audit.view_audit_log"])
