from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "credo.api"
    label = "api"
    verbose_name = _("开放接口")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.api import nav, schedules  # noqa: F401
