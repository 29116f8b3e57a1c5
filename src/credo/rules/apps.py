from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RulesConfig(AppConfig):
    name = "credo.rules"
    label = "rules"
    verbose_name = _("决策模型")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.rules import nav, permissions, states  # noqa: F401
