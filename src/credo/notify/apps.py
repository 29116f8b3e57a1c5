from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "credo.notify"
    label = "notify"
    verbose_name = _("通知")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.notify import (  # noqa: F401
            builtin_templates,
            nav,
            permissions,
            schedules,
            states,
        )
