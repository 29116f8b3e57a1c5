from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "credo.accounts"
    label = "accounts"
    verbose_name = _("用户与权限")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # Declarative wiring: each module registers its contributions when imported
        # (signals: the login audit receivers).
        from credo.accounts import nav, permissions, signals, usercache  # noqa: F401
        from credo.accounts.roles import ensure_default_roles_after_migrate

        post_migrate.connect(
            ensure_default_roles_after_migrate, dispatch_uid="credo.accounts.default_roles"
        )
        usercache.connect()
