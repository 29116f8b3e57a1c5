"""Role grants of the holiday calendar: the administrator maintains it (system configuration,
like custom fields and channels); finance and management may view it."""

from credo.core.roles import register_role_permissions

register_role_permissions("admin", ["core.manage_holidays", "core.view_holiday"])
for _code in ("finance", "management", "risk_manager"):
    register_role_permissions(_code, ["core.view_holiday"])
