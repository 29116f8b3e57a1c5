from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "credo.approvals"
    label = "approvals"
    verbose_name = _("审批流")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.approvals import (  # noqa: F401
            decisions,
            nav,
            notifications,
            permissions,
            schedules,
            states,
        )
