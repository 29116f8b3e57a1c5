from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomFieldsConfig(AppConfig):
    name = "credo.core.customfields"
    label = "customfields"
    verbose_name = _("自定义字段")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.core.customfields import nav, permissions  # noqa: F401
