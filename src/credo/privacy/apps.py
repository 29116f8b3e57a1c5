from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "credo.privacy"
    label = "privacy"
    verbose_name = _("个人信息保护")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.privacy import hooks, nav, permissions, schedules, states  # noqa: F401
