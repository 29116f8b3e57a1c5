"""Role grants of custom records: front office and risk fill them in, management reads them,
the administrator designs the record types (表单设计)."""

from credo.accounts.roles import register_role_permissions

VIEW = ["records.view_customrecord", "records.view_recordtype"]
FILL = [*VIEW, "records.add_customrecord", "records.change_customrecord"]

for _code in ("account_manager", "team_lead", "risk_analyst", "risk_manager"):
    register_role_permissions(_code, FILL)
for _code in ("credit_committee", "management", "collector_senior"):
    register_role_permissions(_code, VIEW)
register_role_permissions("admin", [*FILL, "records.manage_recordtype"])
