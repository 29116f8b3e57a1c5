from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LendingConfig(AppConfig):
    name = "credo.lending"
    label = "lending"
    verbose_name = _("贷款核心")

    def ready(self) -> None:
        from credo.core.ui.nav import NavItem, register_nav
        from credo.customers.selectors import register_business_provider, register_figure_provider
        from credo.lending import demo
        from credo.lending.figures import customer_figures, customer_loans

        demo.register()
        register_figure_provider(customer_figures)
        register_business_provider(customer_loans)

        register_nav(
            NavItem(
                _("贷款"),
                "lending:loan_list",
                "cash",
                permission="lending.view_loan",
                section="lending",
                order=10,
            )
        )
        register_nav(
            NavItem(
                _("新建贷款"),
                "lending:loan_create",
                "plus",
                permission="lending.create_loan_directly",
                section="lending",
                order=20,
            )
        )
        register_nav(
            NavItem(
                _("贷款产品"),
                "lending:product_list",
                "package",
                permission="lending.manage_products",
                section="lending",
                order=80,
            )
        )
        register_nav(
            NavItem(
                _("银行流水"),
                "lending_statements:list",
                "file-invoice",
                "lending.post_repayment",
                section="lending",
                order=40,
            )
        )
        register_nav(
            NavItem(
                _("日终批处理"),
                "lending_eod:runs",
                "calendar-time",
                "lending.run_eod",
                section="lending",
                order=50,
            )
        )
        from credo.core.scheduling.registry import register_schedule

        register_schedule("lending.eod_nightly", "credo.lending.tasks.eod_nightly", "30 1 * * *")
        register_nav(
            NavItem(
                _("还款计划试算"), "lending:calculator", "calculator", section="lending", order=90
            )
        )

        from credo.accounts.roles import register_role_permissions

        for code in ("account_manager", "team_lead"):
            register_role_permissions(code, ["lending.view_loan", "lending.view_product"])
        for code in (
            "risk_analyst",
            "risk_manager",
            "credit_committee",
            "management",
            "collector_junior",
            "collector_senior",
        ):
            register_role_permissions(code, ["lending.view_loan", "lending.view_product"])
        register_role_permissions(
            "finance",
            [
                "lending.view_loan",
                "lending.view_product",
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
