from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LendingConfig(AppConfig):
    name = "credo.lending"
    label = "lending"
    verbose_name = _("贷款核心")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.lending import (  # noqa: F401
            backup,
            customer360,
            demo,
            nav,
            permissions,
            schedules,
            states,
            workbench_panels,
        )
