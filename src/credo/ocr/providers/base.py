"""The provider interface: one call, ``recognize(kind, image_bytes, side) -> OcrResult``.

Each adapter maps its vendor's response onto the vendor-neutral field names below and reports a
confidence in [0, 1] per field; normalisation to Credo's fields and validation happen afterwards
in :mod:`credo.ocr.normalize`, the same for every vendor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.utils.translation import gettext as _

ID_CARD, BUSINESS_LICENSE, BANK_CARD = "id_card", "business_license", "bank_card"
KINDS = (ID_CARD, BUSINESS_LICENSE, BANK_CARD)
FRONT, BACK = "front", "back"
SIDES = (FRONT, BACK)

#: Vendor-neutral field names each kind may return.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    ID_CARD: (
        "name",
        "sex",
        "nation",
        "birth",
        "address",
        "id_number",
        "authority",
        "valid_from",
        "valid_to",
    ),
    BUSINESS_LICENSE: (
        "name",
        "uscc",
        "legal_representative",
        "registered_capital",
        "founded_on",
        "address",
        "company_type",
        "business_scope",
        "valid_period",
    ),
    BANK_CARD: ("card_number", "bank_name", "card_type", "valid_to"),
}


@dataclass(frozen=True)
class OcrResult:
    fields: dict[str, tuple[str, float]]  # name → (value as read, confidence 0..1)
    raw: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""


class OcrError(Exception):
    """A refused or failed recognition. ``code`` is stable (logged, shown to administrators);
    ``message`` is for the person at the form."""

    def __init__(self, code: str, message: str, *, vendor_code: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.vendor_code = vendor_code


# Stable error codes, whatever the vendor.
AUTH = "auth"  # bad credentials or signature
TIMEOUT = "timeout"
UNAVAILABLE = "unavailable"  # network error, 5xx, rate limited by the vendor
NOT_RECOGNIZED = "not_recognized"  # the image is not that document or is unreadable
BAD_RESPONSE = "bad_response"
NOT_CONFIGURED = "not_configured"


class OcrProvider(Protocol):
    code: str
    label: str
    simulated: bool

    def recognize(self, kind: str, image_bytes: bytes, side: str = FRONT) -> OcrResult: ...


def clamp(value: float) -> float:
    return max(0.0, min(1.0, float(value)))


def vendor_error(code: str, vendor_code: str) -> OcrError:
    """The error for a vendor's error code once the adapter has sorted it into ``AUTH``,
    ``UNAVAILABLE`` or ``NOT_RECOGNIZED``: the same message whatever the vendor."""
    if code == AUTH:
        message = _("识别服务拒绝了凭证或签名，请联系管理员检查配置。")
    elif code == UNAVAILABLE:
        message = _("识别服务暂时不可用，请稍后重试。")
    else:
        message = _("未能识别该证照（%(code)s），请换一张清晰、完整的照片。") % {
            "code": vendor_code
        }
    return OcrError(code, message, vendor_code=vendor_code)


def unreadable(status: int) -> OcrError:
    """An answer without the vendor's envelope: an outage after a 5xx, else a bad response."""
    if status >= 500:
        return OcrError(UNAVAILABLE, _("识别服务暂时不可用，请稍后重试。"))
    return OcrError(BAD_RESPONSE, _("识别服务返回了无法解析的结果。"))
