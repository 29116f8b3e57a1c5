from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "credo.core"
    label = "core"
    verbose_name = _("核心")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.core import checks, schedules  # noqa: F401  (system checks, schedules)
        from credo.core.holidays import nav, permissions  # noqa: F401
