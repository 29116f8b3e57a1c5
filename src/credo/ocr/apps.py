from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OcrConfig(AppConfig):
    name = "credo.ocr"
    label = "ocr"
    verbose_name = _("证照识别")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from credo.core.checks import deploy_checks
        from credo.ocr import events, nav, permissions, states  # noqa: F401
        from credo.ocr.checks import check_ocr_provider

        deploy_checks.register("ocr_provider", check_ocr_provider)
