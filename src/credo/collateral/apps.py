from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollateralConfig(AppConfig):
    name = "credo.collateral"
    label = "collateral"
    verbose_name = _("押品与保证")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.collateral import (  # noqa: F401
            listeners,
            nav,
            permissions,
            states,
        )
