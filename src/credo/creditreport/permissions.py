"""Role grants of the credit-reporting app: finance (who closes the months) and the
administrator generate, validate, approve and export the 征信报送 data."""

from credo.accounts.roles import register_role_permissions

MANAGE = ["creditreport.manage", "creditreport.view_submission", "creditreport.view_creditrecord"]

for _code in ("finance", "admin"):
    register_role_permissions(_code, MANAGE)
