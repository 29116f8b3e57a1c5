from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "credo.customers"
    label = "customers"
    verbose_name = _("客户")

    def ready(self) -> None:
        from credo.core.ui.search import register_search_provider
        from credo.customers import demo
        from credo.customers.selectors import search_customers

        demo.register()
        register_search_provider(
            "customers", _("客户"), search_customers, permission="customers.view_customer", order=10
        )
        from credo.accounts.roles import register_role_permissions
        from credo.core.ui.nav import NavItem, register_nav

        register_nav(
            NavItem(
                _("客户列表"),
                "customers:list",
                "users",
                "customers.view_customer",
                section="customers",
                order=10,
            )
        )
        register_nav(
            NavItem(
                _("客户导入"),
                "customers:import",
                "file-import",
                "customers.import_customers",
                section="customers",
                order=20,
            )
        )
        register_nav(
            NavItem(
                _("外部数据源"),
                "customers:provider_list",
                "cloud-data-connection",
                "customers.manage_providers",
                section="system",
                order=35,
            )
        )
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
        register_role_permissions(
            "team_lead", ["customers.export_customers", "customers.import_customers"]
        )
        register_role_permissions("management", ["customers.export_customers"])
