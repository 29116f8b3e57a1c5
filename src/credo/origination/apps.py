from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OriginationConfig(AppConfig):
    name = "credo.origination"
    label = "origination"
    verbose_name = _("贷前申请")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.origination import (  # noqa: F401
            backup,
            decisions,
            listeners,
            nav,
            notifications,
            permissions,
            states,
            workbench_panels,
        )
