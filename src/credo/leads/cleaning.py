"""Validation of lead input — shared by the form, the public form, the API and the import."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from credo.core.money import parse_money
from credo.core.regions import get_region
from credo.core.validators import normalize_phone, normalize_uscc, validate_phone, validate_uscc
from credo.leads.models import Lead

FIELDS = [
    "name",
    "contact_name",
    "phone",
    "uscc",
    "source",
    "campaign",
    "region_code",
    "business_type",
    "requested_amount",
    "note",
]

_SOURCE_BY_LABEL = {str(label): value for value, label in Lead.Source.choices}
_BUSINESS_BY_LABEL = {str(label): value for value, label in Lead.BusinessType.choices}


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()


def clean_lead(
    data: Mapping[str, Any], *, partial: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """Raw input → (clean values, {field: 中文错误}). Labels (“线上推广”, “经营贷”) are accepted
    for choices as well as codes. ``partial`` cleans only the keys present."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def present(key: str) -> bool:
        return not partial or key in data

    if present("name"):
        name = _text(data, "name")
        if not name:
            errors["name"] = _("请填写名称（企业名称或个人姓名）。")
        elif len(name) > 120:
            errors["name"] = _("名称不能超过 120 个字符。")
        out["name"] = name[:120]
    if present("contact_name"):
        out["contact_name"] = _text(data, "contact_name")[:60]
    if present("phone"):
        phone = normalize_phone(_text(data, "phone"))
        if phone:
            try:
                validate_phone(phone)
            except ValidationError as exc:
                errors["phone"] = exc.messages[0]
        out["phone"] = phone
    if present("uscc"):
        uscc = normalize_uscc(_text(data, "uscc"))
        if uscc:
            try:
                validate_uscc(uscc)
            except ValidationError as exc:
                errors["uscc"] = exc.messages[0]
        out["uscc"] = uscc
    if not partial and not out.get("phone") and not out.get("uscc") and "phone" not in errors:
        errors["phone"] = _("请至少填写手机号或统一社会信用代码，以便联系和查重。")
    if present("source"):
        source = _text(data, "source")
        source = _SOURCE_BY_LABEL.get(source, source) or Lead.Source.OTHER
        if source not in Lead.Source.values:
            errors["source"] = _("未知的来源渠道：%(v)s") % {"v": source}
        out["source"] = source
    if present("campaign"):
        out["campaign"] = _text(data, "campaign")[:80]
    if present("region_code"):
        region = _text(data, "region_code")
        if region and get_region(region) is None:
            errors["region_code"] = _("无效的行政区划代码：%(code)s") % {"code": region}
        out["region_code"] = region
    if present("business_type"):
        kind = _text(data, "business_type")
        kind = _BUSINESS_BY_LABEL.get(kind, kind)
        if kind and kind not in Lead.BusinessType.values:
            errors["business_type"] = _("未知的业务类型：%(v)s") % {"v": kind}
        out["business_type"] = kind
    if present("requested_amount"):
        raw = _text(data, "requested_amount")
        if raw:
            try:
                amount = parse_money(raw)
                if amount.fen <= 0:
                    raise ValidationError(_("金额必须大于 0。"))
                out["requested_amount"] = amount
            except ValidationError as exc:
                errors["requested_amount"] = exc.messages[0]
        else:
            out["requested_amount"] = None
    if present("note"):
        out["note"] = _text(data, "note")[:2000]
    return out, errors
