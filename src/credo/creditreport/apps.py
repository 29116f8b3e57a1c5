from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditreportConfig(AppConfig):
    name = "credo.creditreport"
    label = "creditreport"
    verbose_name = _("征信报送")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.creditreport import listeners, nav, permissions, states, writers  # noqa: F401
