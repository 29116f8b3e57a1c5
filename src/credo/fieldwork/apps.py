from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldworkConfig(AppConfig):
    name = "credo.fieldwork"
    label = "fieldwork"
    verbose_name = _("贷后检查与走访")
