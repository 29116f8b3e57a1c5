"""Customer permissions granted to the built-in roles."""

from credo.accounts.roles import register_role_permissions

staff = ["customers.view_customer", "customers.add_customer", "customers.change_customer"]
for code in ("account_manager", "team_lead"):
    register_role_permissions(code, [*staff, "customers.pull_external_data"])
for code in (
    "risk_analyst",
    "risk_manager",
    "credit_committee",
    "management",
    "finance",
    "collector_junior",
    "collector_senior",
):
    register_role_permissions(code, ["customers.view_customer"])
register_role_permissions("risk_manager", ["customers.pull_external_data"])
register_role_permissions(
    "admin",
    [
        *staff,
        "customers.import_customers",
        "customers.export_customers",
        "customers.pull_external_data",
        "customers.manage_providers",
    ],
)
register_role_permissions("team_lead", ["customers.export_customers", "customers.import_customers"])
register_role_permissions("management", ["customers.export_customers"])
