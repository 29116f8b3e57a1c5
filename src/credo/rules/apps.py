from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_defaults(sender, **kwargs):  # type: ignore[no-untyped-def]
    from credo.rules.services import ensure_defaults

    ensure_defaults()


class RulesConfig(AppConfig):
    name = "credo.rules"
    label = "rules"
    verbose_name = _("决策模型")

    def ready(self) -> None:
        from credo.accounts.roles import register_role_permissions

        # post_migrate is sent after every app has migrated, so all registrations are in
        post_migrate.connect(_install_defaults, sender=self, dispatch_uid="rules-defaults")
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
