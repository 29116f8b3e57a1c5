"""Role grants of lending: who sees loans and products, who moves money, who runs the close."""

from credo.accounts.roles import register_role_permissions

VIEW = ["lending.view_loan", "lending.view_product"]

for _code in (
    "account_manager",
    "team_lead",
    "risk_analyst",
    "risk_manager",
    "credit_committee",
    "management",
    "collector_junior",
    "collector_senior",
):
    register_role_permissions(_code, VIEW)
register_role_permissions(
    "finance",
    [
        *VIEW,
        "lending.disburse_loan",
        "lending.post_repayment",
        "lending.reverse_posting",
        "lending.run_eod",
        "lending.write_off_loan",
    ],
)
register_role_permissions("credit_committee", ["lending.write_off_loan"])
register_role_permissions(
    "admin",
    [
        "lending.manage_limits",
        "lending.manage_products",
        "lending.view_product",
        "lending.view_loan",
        "lending.run_eod",
        # 新建贷款 without an application skips origination: admin only by default.
        "lending.create_loan_directly",
    ],
)
register_role_permissions("risk_manager", ["lending.manage_limits"])
