from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "credo.leads"
    label = "leads"
    verbose_name = _("线索")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.leads import (  # noqa: F401
            decisions,
            nav,
            notifications,
            permissions,
            schedules,
            states,
            workbench_panels,
        )
