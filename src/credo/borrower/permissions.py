"""Role grants: account managers and team leads handle their customers' self-service requests."""

from credo.accounts.roles import register_role_permissions

for _code in ("account_manager", "team_lead"):
    register_role_permissions(
        _code, ["borrower.review_borrowerrequest", "borrower.view_borrowerrequest"]
    )
