from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "credo.core.audit"
    label = "audit"
    verbose_name = _("审计日志")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.core.audit import permissions, schedules  # noqa: F401
