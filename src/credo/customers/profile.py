"""Validation of customer profile input — the one place forms, the API and import share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.money import parse_money
from credo.core.regions import get_region
from credo.core.validators import (
    normalize_id_number,
    normalize_phone,
    normalize_uscc,
    validate_id_number,
    validate_phone,
    validate_uscc,
)
from credo.customers.industries import INDUSTRY_NAMES
from credo.customers.models import Customer

PROFILE_FIELDS = [
    "kind",
    "name",
    "uscc",
    "registered_capital",
    "industry",
    "legal_representative",
    "founded_on",
    "id_number",
    "phone",
    "bank_account",
    "employer",
    "region_code",
    "address",
]
SENSITIVE_FIELDS = {"id_number", "phone", "bank_account"}


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()


_SKIP = object()  # the field is left out of the clean values (its input was invalid)
Cleaned = tuple[Any, str | None]


@dataclass(frozen=True)
class _Context:
    today: dt.date
    enterprise: bool
    partial: bool


def _validated(value: str, validator: Callable[[str], Any], missing: str | None) -> Cleaned:
    if not value:
        return value, missing
    try:
        validator(value)
    except ValidationError as exc:
        return value, exc.messages[0]
    return value, None


def _name(data: Mapping[str, Any], ctx: _Context) -> Cleaned:
    name = _text(data, "name")
    if not name:
        return name, _("请填写客户名称/姓名。")
    if len(name) > 120:
        return name, _("名称不能超过 120 个字符。")
    return name, None


def _uscc(data: Mapping[str, Any], ctx: _Context) -> Cleaned:
    uscc = normalize_uscc(_text(data, "uscc"))
    return _validated(uscc, validate_uscc, _("企业客户必须填写统一社会信用代码。"))


def _registered_capital(data: Mapping[str, Any], ctx: _Context) -> Cleaned:
    raw = _text(data, "registered_capital")
    if not raw:
        return None, None
    try:
        return parse_money(raw), None
    except ValidationError as exc:
        return _SKIP, exc.messages[0]


def _founded_on(data: Mapping[str, Any], ctx: _Context) -> Cleaned:
    raw_date = data.get("founded_on")
    if raw_date in (None, ""):
        return None, None
    try:
        founded = (
            raw_date
            if isinstance(raw_date, dt.date)
            else dt.date.fromisoformat(str(raw_date).strip()[:10])
        )
    except ValueError:
        return _SKIP, _("日期格式应为 YYYY-MM-DD。")
    return founded, (_("成立日期不能晚于今天。") if founded > ctx.today else None)


def _id_number(data: Mapping[str, Any], ctx: _Context) -> Cleaned:
    id_number = normalize_id_number(_text(data, "id_number"))
    return _validated(
        id_number,
        lambda v: validate_id_number(v, today=ctx.today),
        _("个人客户必须填写身份证号。"),
    )


def _industry(data: Mapping[str, Any], ctx: _Context) -> Cleaned:
    industry = _text(data, "industry").upper()
    if industry and industry not in INDUSTRY_NAMES:
        return industry, _("行业应为国民经济行业门类 A–T。")
    return industry, None


def _phone(data: Mapping[str, Any], ctx: _Context) -> Cleaned:
    phone = normalize_phone(_text(data, "phone"))
    required = not ctx.enterprise and not ctx.partial
    return _validated(phone, validate_phone, _("个人客户必须填写手机号。") if required else None)


def _bank_account(data: Mapping[str, Any], ctx: _Context) -> Cleaned:
    account = "".join(ch for ch in _text(data, "bank_account") if ch.isdigit())
    if account and not 8 <= len(account) <= 30:
        return account, _("银行账号应为 8–30 位数字。")
    return account, None


def _region(data: Mapping[str, Any], ctx: _Context) -> Cleaned:
    region = _text(data, "region_code")
    if region and get_region(region) is None:
        return region, _("无效的行政区划代码：%(code)s") % {"code": region}
    return region, None


def _limit(key: str, n: int) -> Callable[[Mapping[str, Any], _Context], Cleaned]:
    return lambda data, ctx: (_text(data, key)[:n], None)


Cleaner = Callable[[Mapping[str, Any], _Context], Cleaned]
_COMMON: list[tuple[str, Cleaner]] = [
    ("industry", _industry),
    ("phone", _phone),
    ("bank_account", _bank_account),
    ("region_code", _region),
    ("address", _limit("address", 200)),
]
# In this order (the order of the values and of the errors).
_FIELDS: dict[str, list[tuple[str, Cleaner]]] = {
    Customer.Kind.ENTERPRISE: [
        ("name", _name),
        ("uscc", _uscc),
        ("registered_capital", _registered_capital),
        ("founded_on", _founded_on),
        ("legal_representative", _limit("legal_representative", 60)),
        *_COMMON,
    ],
    Customer.Kind.INDIVIDUAL: [
        ("name", _name),
        ("id_number", _id_number),
        ("employer", _limit("employer", 120)),
        *_COMMON,
    ],
}


def clean_profile(
    data: Mapping[str, Any], *, kind: str | None = None, today: dt.date | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Raw input → (clean values, {field: 中文错误}). Only keys present in ``data`` are cleaned
    when ``kind`` is given (partial update); otherwise the full create rules apply."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    partial = kind is not None
    kind = kind or _text(data, "kind")
    if kind not in Customer.Kind.values:
        errors["kind"] = _("请选择客户类型（企业或个人）。")
        return out, errors
    if not partial:
        out["kind"] = kind
    ctx = _Context(
        today=today or clock.today(),
        enterprise=kind == Customer.Kind.ENTERPRISE,
        partial=partial,
    )
    for key, clean in _FIELDS[kind]:
        if partial and key not in data:
            continue
        value, error = clean(data, ctx)
        if error:
            errors[key] = error
        if value is not _SKIP:
            out[key] = value
    return out, errors
