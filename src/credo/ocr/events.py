"""OCR's entries in the business-event catalogue (automations, webhooks)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from credo.core.events.catalogue import register_event

GROUP = _("证照识别")

register_event(
    "ocr.recognize",
    _("证照已识别"),
    "ocr.ocrrequest",
    group=GROUP,
    description=_(
        "一次证照识别（身份证、营业执照、银行卡）：metadata 有 kind、side、purpose、provider、"
        "status（ok / failed / rejected）、duration_ms 与 fields（身份证号、银行卡号已脱敏）。"
    ),
    fields=("kind", "side", "purpose", "provider", "status", "duration_ms", "fields"),
)
register_event(
    "ocr.confirm",
    _("识别结果已确认"),
    "ocr.ocrrequest",
    group=GROUP,
    description=_(
        "操作人确认将识别字段填入表单（尚未保存）；changes.confirmed_fields 为字段列表。"
    ),
    fields=("confirmed_fields",),
)
