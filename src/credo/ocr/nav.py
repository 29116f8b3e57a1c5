"""Navigation entry of the OCR request log (administrators)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("证照识别记录"),
        "ocr:request_list",
        "scan",
        "ocr.view_ocrrequest",
        section="system",
        order=75,
    )
)
