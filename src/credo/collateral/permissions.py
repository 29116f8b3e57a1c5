"""Role grants of collateral: account managers record collateral and guarantees; risk managers
and the credit committee approve releases (a second person: never the requester)."""

from credo.accounts.roles import register_role_permissions

VIEW = "collateral.view_collateral"
MANAGE = "collateral.manage_collateral"
APPROVE = "collateral.approve_collateral_release"

for _code in (
    "account_manager",
    "team_lead",
    "risk_analyst",
    "risk_manager",
    "credit_committee",
    "finance",
    "management",
    "admin",
    "collector_senior",
):
    register_role_permissions(_code, [VIEW])
for _code in ("account_manager", "team_lead", "risk_manager"):
    register_role_permissions(_code, [MANAGE])
for _code in ("risk_manager", "credit_committee"):
    register_role_permissions(_code, [APPROVE])
