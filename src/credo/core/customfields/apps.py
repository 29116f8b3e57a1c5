from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomFieldsConfig(AppConfig):
    name = "credo.core.customfields"
    label = "customfields"
    verbose_name = _("自定义字段")

    def ready(self) -> None:
        from credo.accounts.roles import register_role_permissions
        from credo.core.ui.nav import NavItem, register_nav

        register_role_permissions("admin", ["customfields.manage_custom_fields"])
        register_nav(
            NavItem(
                _("自定义字段"),
                "customfields:list",
                "forms",
                "customfields.manage_custom_fields",
                section="system",
                order=30,
            )
        )
