from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationsConfig(AppConfig):
    name = "credo.automations"
    label = "automations"
    verbose_name = _("自动化")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from credo.automations import (  # noqa: F401
            listeners,
            nav,
            permissions,
            schedules,
            states,
        )
