from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "credo.core.scheduling"
    label = "scheduling"
    verbose_name = _("后台任务与定时计划")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.core.scheduling import nav, permissions, schedules, states  # noqa: F401
