from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RulesConfig(AppConfig):
    name = "credo.rules"
    label = "rules"
    verbose_name = _("决策模型")

    def ready(self) -> None:
        from credo.accounts.roles import register_role_permissions
        from credo.core.ui.nav import NavItem, register_nav

        # Shipped default models are installed on first use (evaluation or the model list),
        # each with its own audit entry, not at migrate time.
        register_role_permissions(
            "admin",
            ["rules.view_decisionmodel", "rules.edit_rules", "rules.publish_rules"],
        )
        register_role_permissions(
            "risk_manager",
            ["rules.view_decisionmodel", "rules.edit_rules", "rules.publish_rules"],
        )
        for code in ("risk_analyst", "credit_committee", "management"):
            register_role_permissions(code, ["rules.view_decisionmodel"])
        register_nav(
            NavItem(
                _("决策模型"),
                "rules:model_list",
                "git-branch",
                permission="rules.view_decisionmodel",
                section="system",
                order=50,
            )
        )
