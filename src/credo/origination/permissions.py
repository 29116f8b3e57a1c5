"""Role grants of origination: who may create, submit and review loan applications."""

from credo.accounts.roles import register_role_permissions

STAFF = [
    "origination.view_application",
    "origination.add_application",
    "origination.change_application",
    "origination.submit_application",
    "origination.manage_portal_links",
]

for _code in ("account_manager", "team_lead"):
    register_role_permissions(_code, STAFF)
register_role_permissions("team_lead", ["origination.review_documents"])
for _code in ("risk_analyst", "risk_manager", "credit_committee"):
    register_role_permissions(
        _code, ["origination.view_application", "origination.review_documents"]
    )
for _code in ("finance", "management", "admin"):
    register_role_permissions(_code, ["origination.view_application"])
