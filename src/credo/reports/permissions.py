"""Role grants of the reports: who may design reports and who may schedule them."""

from credo.accounts.roles import register_role_permissions

for _code in ("team_lead", "risk_manager", "management", "admin", "finance", "credit_committee"):
    register_role_permissions(_code, ["reports.build_report", "reports.schedule_report"])
for _code in ("account_manager", "risk_analyst"):
    register_role_permissions(_code, ["reports.build_report"])
