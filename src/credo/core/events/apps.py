from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "credo.core.events"
    label = "events"
    verbose_name = _("业务事件")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from credo.core.events import builtin  # noqa: F401
