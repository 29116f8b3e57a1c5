from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "credo.webhooks"
    label = "webhooks"
    verbose_name = _("Webhook 推送")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.webhooks import (  # noqa: F401
            checks,
            consumers,
            nav,
            notices,
            permissions,
            schedules,
            states,
        )
