from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "credo.contracts"
    label = "contracts"
    verbose_name = _("合同与签署")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.contracts import (  # noqa: F401
            backup,
            esign,
            listeners,
            nav,
            permissions,
            schedules,
            states,
        )
