from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "credo.monitoring"
    label = "monitoring"
    verbose_name = _("贷后监控")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.monitoring import (  # noqa: F401
            decisions,
            events,
            listeners,
            nav,
            permissions,
            schedules,
            states,
            workbench_panels,
        )
