"""Role grants of monitoring: who sees and handles alerts, who decides retention."""

from credo.accounts.roles import register_role_permissions

for _code in ("risk_analyst", "risk_manager", "management", "account_manager", "team_lead"):
    register_role_permissions(_code, ["monitoring.view_alert"])
for _code in ("risk_analyst", "risk_manager"):
    register_role_permissions(_code, ["monitoring.handle_alert"])
register_role_permissions("management", ["monitoring.handle_alert"])
register_role_permissions("risk_manager", ["monitoring.manage_retention"])
