from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScorecardConfig(AppConfig):
    name = "credo.scorecard"
    label = "scorecard"
    verbose_name = _("评分卡")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.scorecard import (  # noqa: F401
            hooks,
            nav,
            notifications,
            permissions,
            schedules,
            states,
        )
