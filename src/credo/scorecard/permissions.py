"""Scorecard permissions granted to the built-in roles."""

from credo.accounts.roles import register_role_permissions

for code in ("risk_analyst", "risk_manager", "management", "credit_committee"):
    register_role_permissions(code, ["scorecard.view_scorecard"])
for code in ("risk_analyst", "risk_manager"):
    register_role_permissions(code, ["scorecard.train_scorecard"])
register_role_permissions("risk_manager", ["scorecard.publish_scorecard"])
