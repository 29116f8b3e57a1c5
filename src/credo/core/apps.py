from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "credo.core"
    label = "core"
    verbose_name = _("核心")

    def ready(self) -> None:
        from credo.core import checks  # noqa: F401  (registers system checks)
        from credo.core.scheduling.registry import register_schedule

        register_schedule(
            "core.purge_import_files", "credo.core.tasks.purge_import_files", "17 * * * *"
        )
