from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "credo.contracts"
    label = "contracts"
    verbose_name = _("合同与签署")

    def ready(self) -> None:
        from credo.accounts.roles import register_role_permissions
        from credo.contracts.selectors import loan_value_date_floors
        from credo.core.scheduling.registry import register_schedule
        from credo.core.ui.nav import NavItem, register_nav
        from credo.lending.selectors import register_value_date_floor

        register_value_date_floor(loan_value_date_floors)

        register_nav(
            NavItem(
                _("合同模板"),
                "contracts:template_list",
                "file-certificate",
                permission="contracts.change_contracttemplate",
                section="system",
                order=60,
            )
        )
        register_schedule(
            "contracts.expire", "credo.contracts.tasks.expire_contracts", "15 2 * * *"
        )
        register_role_permissions(
            "admin",
            [
                "contracts.view_contracttemplate",
                "contracts.add_contracttemplate",
                "contracts.change_contracttemplate",
                "contracts.view_contract",
            ],
        )
        for code in ("account_manager", "team_lead"):
            register_role_permissions(code, ["contracts.view_contract", "contracts.send_contract"])
        for code in ("risk_analyst", "risk_manager", "finance", "credit_committee", "management"):
            register_role_permissions(code, ["contracts.view_contract"])
