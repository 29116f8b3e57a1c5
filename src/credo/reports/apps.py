from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "credo.reports"
    label = "reports"
    verbose_name = _("报表")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.reports import (  # noqa: F401
            catalog,
            listeners,
            nav,
            permissions,
            schedules,
            states,
            supervisory_wiring,
        )
