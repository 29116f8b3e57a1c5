from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "credo.customers"
    label = "customers"
    verbose_name = _("客户")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.customers import hooks, nav, permissions, states  # noqa: F401
