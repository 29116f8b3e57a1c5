from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OriginationConfig(AppConfig):
    name = "credo.origination"
    label = "origination"
    verbose_name = _("贷前申请")

    def ready(self) -> None:
        pass
