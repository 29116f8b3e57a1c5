"""Role grants of the decision models: who reads, edits and publishes them.

Shipped default models are installed on first use (evaluation or the model list), each with its
own audit entry, not at migrate time.
"""

from credo.accounts.roles import register_role_permissions

EDITORS = ["rules.view_decisionmodel", "rules.edit_rules", "rules.publish_rules"]

register_role_permissions("admin", EDITORS)
register_role_permissions("risk_manager", EDITORS)
for _code in ("risk_analyst", "credit_committee", "management"):
    register_role_permissions(_code, ["rules.view_decisionmodel"])
