"""``{% ocr_panel "customer" kind %}``: the 识别证照 panel above a form, for those allowed."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from credo.ocr.models import OcrRequest
from credo.ocr.permissions import can_use_ocr
from credo.ocr.providers import get_provider

register = template.Library()

Choice = tuple[str, str]


def _choices(purpose: str, customer_kind: str) -> list[Choice]:
    id_front = ("id_card:front", _("居民身份证 · 人像面"))
    id_back = ("id_card:back", _("居民身份证 · 国徽面"))
    licence = ("business_license:front", str(OcrRequest.Kind.BUSINESS_LICENSE.label))
    bank = ("bank_card:front", str(OcrRequest.Kind.BANK_CARD.label))
    if purpose == "application":
        return [id_front, licence]
    if customer_kind == "enterprise":
        return [licence, bank]
    if customer_kind == "individual":
        return [id_front, id_back, bank]
    return [id_front, id_back, licence, bank]


@register.inclusion_tag("ocr/_panel.html", takes_context=True)
def ocr_panel(context: Any, purpose: str = "customer", customer_kind: str = "") -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    provider = get_provider()
    return {
        "show": provider is not None and can_use_ocr(user, purpose),
        "provider": provider,
        "purpose": purpose,
        "choices": _choices(purpose, str(customer_kind or "")),
    }
