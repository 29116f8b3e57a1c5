from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsConfig(AppConfig):
    name = "credo.collections"
    label = "collections"
    verbose_name = _("催收")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.collections import (  # noqa: F401
            decisions,
            listeners,
            nav,
            permissions,
            schedules,
            states,
            workbench_panels,
        )
