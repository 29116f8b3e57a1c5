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
# 收费 (手续费/违约金/其他费用): finance charges and reverses ad hoc fees on a loan.
register_role_permissions("finance", ["lending.charge_fee"])
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

# Servicing approvals (maker-checker; a second person decides): 客户经理 and 催收员 request a
# 罚息减免 or a manual five-level class, 风控经理 approves (limits: CREDO_WAIVER_LIMIT_FEN).
for _code in ("account_manager", "team_lead", "collector_junior", "collector_senior"):
    register_role_permissions(_code, ["lending.request_waiver", "lending.request_classification"])
register_role_permissions("risk_analyst", ["lending.request_classification"])
register_role_permissions(
    "risk_manager", ["lending.approve_waiver", "lending.approve_classification"]
)
# 展期/重组/借新还旧: the account manager (or team lead) requests; the approval flow
# (lending.restructure) routes to the risk manager / credit committee, who also hold the
# maker-checker permission used when no flow is configured.
for _code in ("account_manager", "team_lead"):
    register_role_permissions(_code, ["lending.request_restructure"])
for _code in ("risk_manager", "credit_committee"):
    register_role_permissions(_code, ["lending.approve_restructure"])

# The books (会计期间, 科目余额表, 凭证导出): finance closes months and exports vouchers; a
# reopening (反结账) is approved by a second person holding approve_reopen (another finance
# user or management); management and risk read the books.
register_role_permissions(
    "finance",
    [
        "lending.view_books",
        "lending.close_period",
        "lending.approve_reopen",
        "lending.export_vouchers",
    ],
)
register_role_permissions("management", ["lending.view_books", "lending.approve_reopen"])

# 集中度管理 (issue 22): finance maintains the net assets and the limits; risk and management
# read the concentration report.
register_role_permissions("finance", ["lending.manage_exposure", "lending.view_exposure"])
for _code in ("risk_manager", "risk_analyst", "credit_committee", "management"):
    register_role_permissions(_code, ["lending.view_exposure"])
register_role_permissions("admin", ["lending.manage_exposure", "lending.view_exposure"])

# 贷款损失准备 (issue 20): finance edits the provision rates and runs the monthly provision
# (audited; no maker-checker); readers of the books see the provision report.
register_role_permissions("finance", ["lending.manage_provisions"])
