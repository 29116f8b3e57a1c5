"""Role grants of approvals: who sees the approval inbox, who configures flows."""

from credo.accounts.roles import register_role_permissions

APPROVERS = (
    "account_manager",
    "team_lead",
    "risk_manager",
    "credit_committee",
    "finance",
    "management",
    "admin",
)

for _code in APPROVERS:
    register_role_permissions(_code, ["approvals.view_approvalinstance"])
register_role_permissions("admin", ["approvals.manage_flows", "approvals.view_approvalflow"])
