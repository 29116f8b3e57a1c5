"""Role grants of contracts: template editing, viewing and sending contracts."""

from credo.accounts.roles import register_role_permissions

register_role_permissions(
    "admin",
    [
        "contracts.view_contracttemplate",
        "contracts.add_contracttemplate",
        "contracts.change_contracttemplate",
        "contracts.view_contract",
    ],
)
for _code in ("account_manager", "team_lead"):
    register_role_permissions(_code, ["contracts.view_contract", "contracts.send_contract"])
for _code in ("risk_analyst", "risk_manager", "finance", "credit_committee", "management"):
    register_role_permissions(_code, ["contracts.view_contract"])
