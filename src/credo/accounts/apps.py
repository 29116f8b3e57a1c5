from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "credo.accounts"
    label = "accounts"
    verbose_name = _("用户与权限")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from credo.accounts import signals  # noqa: F401  (login audit receivers)
        from credo.accounts.roles import ensure_default_roles_after_migrate
        from credo.core.ui.nav import NavItem, register_nav

        post_migrate.connect(
            ensure_default_roles_after_migrate, dispatch_uid="credo.accounts.default_roles"
        )
        register_nav(
            NavItem(
                _("用户"),
                "accounts:user_list",
                "users",
                permission="accounts.manage_users",
                section="system",
                order=10,
            )
        )
        register_nav(
            NavItem(
                _("角色与权限"),
                "accounts:role_list",
                "shield-lock",
                permission="accounts.manage_roles",
                section="system",
                order=20,
            )
        )
        register_nav(
            NavItem(
                _("字段权限"),
                "accounts:field_permissions",
                "eye-off",
                permission="accounts.manage_roles",
                section="system",
                order=25,
            )
        )
        register_nav(
            NavItem(
                _("组织机构"),
                "accounts:orgunit_list",
                "sitemap",
                permission="accounts.manage_org_units",
                section="system",
                order=30,
            )
        )
