"""Role grants of field work: account managers inspect and check in; team leads, risk and
management see (team leads also inspect, e.g. when a member is away)."""

from credo.accounts.roles import register_role_permissions

VIEW = ["fieldwork.view_inspection", "fieldwork.view_visit"]
FIELD = [
    *VIEW,
    "fieldwork.perform_inspection",
    "fieldwork.add_visit",
    "fieldwork.set_customer_site",
]

for _code in ("account_manager", "team_lead", "admin"):
    register_role_permissions(_code, FIELD)
for _code in ("risk_analyst", "risk_manager", "management"):
    register_role_permissions(_code, VIEW)
