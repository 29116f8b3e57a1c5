from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImappsConfig(AppConfig):
    name = "credo.imapps"
    label = "imapps"
    verbose_name = _("企业微信与钉钉")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.imapps import listeners, nav, permissions, schedules, sender, states  # noqa: F401
