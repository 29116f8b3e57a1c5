from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldworkConfig(AppConfig):
    name = "credo.fieldwork"
    label = "fieldwork"
    verbose_name = _("贷后检查与走访")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.fieldwork import (  # noqa: F401
            decisions,
            hooks,
            listeners,
            nav,
            permissions,
            reports,
            states,
            workbench_panels,
        )
