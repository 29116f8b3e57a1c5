"""Validation of lead input — shared by the form, the public form, the API and the import."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


_SKIP = object()  # the field is left out of the clean values (its input was invalid)
Cleaned = tuple[Any, str | None]


def _name(name: str) -> Cleaned:
    if not name:
        return name, _("请填写名称（企业名称或个人姓名）。")
    if len(name) > 120:
        return name[:120], _("名称不能超过 120 个字符。")
    return name, None


def _validated(value: str, validator: Callable[[str], None]) -> Cleaned:
    if value:
        try:
            validator(value)
        except ValidationError as exc:
            return value, exc.messages[0]
    return value, None


def _phone(text: str) -> Cleaned:
    return _validated(normalize_phone(text), validate_phone)


def _uscc(text: str) -> Cleaned:
    return _validated(normalize_uscc(text), validate_uscc)


def _source(text: str) -> Cleaned:
    source = _SOURCE_BY_LABEL.get(text, text) or Lead.Source.OTHER
    if source not in Lead.Source.values:
        return source, _("未知的来源渠道：%(v)s") % {"v": source}
    return source, None


def _region(region: str) -> Cleaned:
    if region and get_region(region) is None:
        return region, _("无效的行政区划代码：%(code)s") % {"code": region}
    return region, None


def _business_type(text: str) -> Cleaned:
    kind = _BUSINESS_BY_LABEL.get(text, text)
    if kind and kind not in Lead.BusinessType.values:
        return kind, _("未知的业务类型：%(v)s") % {"v": kind}
    return kind, None


def _amount(raw: str) -> Cleaned:
    if not raw:
        return None, None
    try:
        amount = parse_money(raw)
        if amount.fen <= 0:
            raise ValidationError(_("金额必须大于 0。"))
    except ValidationError as exc:
        return _SKIP, exc.messages[0]
    return amount, None


def _limit(n: int) -> Callable[[str], Cleaned]:
    return lambda text: (text[:n], None)


# In this order (the order of the values and of the errors).
_FIELDS: list[tuple[str, Callable[[str], Cleaned]]] = [
    ("name", _name),
    ("contact_name", _limit(60)),
    ("phone", _phone),
    ("uscc", _uscc),
    ("source", _source),
    ("campaign", _limit(80)),
    ("region_code", _region),
    ("business_type", _business_type),
    ("requested_amount", _amount),
    ("note", _limit(2000)),
]


def _unreachable(out: Mapping[str, Any], errors: Mapping[str, str]) -> bool:
    """Neither a phone nor a USCC to reach or de-duplicate the lead by."""
    return not out.get("phone") and not out.get("uscc") and "phone" not in errors


def clean_lead(
    data: Mapping[str, Any], *, partial: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """Raw input → (clean values, {field: 中文错误}). Labels (“线上推广”, “经营贷”) are accepted
    for choices as well as codes. ``partial`` cleans only the keys present."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, clean in _FIELDS:
        if not partial or key in data:
            value, error = clean(_text(data, key))
            if error:
                errors[key] = error
            if value is not _SKIP:
                out[key] = value
        if key == "uscc" and not partial and _unreachable(out, errors):
            errors["phone"] = _("请至少填写手机号或统一社会信用代码，以便联系和查重。")
    return out, errors
