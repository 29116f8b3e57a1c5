from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "credo.core.audit"
    label = "audit"
    verbose_name = _("审计日志")

    def ready(self) -> None:
        from credo.core.scheduling.registry import register_schedule

        register_schedule("audit.checkpoint", "credo.core.audit.tasks.checkpoint", "7 * * * *")
