"""Validation of customer profile input — the one place forms, the API and import share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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
    today = today or dt.date.today()

    def present(key: str) -> bool:
        return not partial or key in data

    if present("name"):
        name = _text(data, "name")
        if not name:
            errors["name"] = _("请填写客户名称/姓名。")
        elif len(name) > 120:
            errors["name"] = _("名称不能超过 120 个字符。")
        out["name"] = name
    enterprise = kind == Customer.Kind.ENTERPRISE
    if enterprise:
        if present("uscc"):
            uscc = normalize_uscc(_text(data, "uscc"))
            if not uscc:
                errors["uscc"] = _("企业客户必须填写统一社会信用代码。")
            else:
                try:
                    validate_uscc(uscc)
                except ValidationError as exc:
                    errors["uscc"] = exc.messages[0]
            out["uscc"] = uscc
        if present("registered_capital"):
            raw = _text(data, "registered_capital")
            if raw:
                try:
                    out["registered_capital"] = parse_money(raw)
                except ValidationError as exc:
                    errors["registered_capital"] = exc.messages[0]
            else:
                out["registered_capital"] = None
        if present("founded_on"):
            raw_date = data.get("founded_on")
            if raw_date in (None, ""):
                out["founded_on"] = None
            else:
                try:
                    founded = (
                        raw_date
                        if isinstance(raw_date, dt.date)
                        else dt.date.fromisoformat(str(raw_date).strip()[:10])
                    )
                    if founded > today:
                        errors["founded_on"] = _("成立日期不能晚于今天。")
                    out["founded_on"] = founded
                except ValueError:
                    errors["founded_on"] = _("日期格式应为 YYYY-MM-DD。")
        for key in ("legal_representative",):
            if present(key):
                out[key] = _text(data, key)[:60]
    else:
        if present("id_number"):
            id_number = normalize_id_number(_text(data, "id_number"))
            if not id_number:
                errors["id_number"] = _("个人客户必须填写身份证号。")
            else:
                try:
                    validate_id_number(id_number, today=today)
                except ValidationError as exc:
                    errors["id_number"] = exc.messages[0]
            out["id_number"] = id_number
        if present("employer"):
            out["employer"] = _text(data, "employer")[:120]
    if present("industry"):
        industry = _text(data, "industry").upper()
        if industry and industry not in INDUSTRY_NAMES:
            errors["industry"] = _("行业应为国民经济行业门类 A–T。")
        out["industry"] = industry
    if present("phone"):
        phone = normalize_phone(_text(data, "phone"))
        if phone:
            try:
                validate_phone(phone)
            except ValidationError as exc:
                errors["phone"] = exc.messages[0]
        elif not enterprise and not partial:
            errors["phone"] = _("个人客户必须填写手机号。")
        out["phone"] = phone
    if present("bank_account"):
        account = "".join(ch for ch in _text(data, "bank_account") if ch.isdigit())
        if account and not 8 <= len(account) <= 30:
            errors["bank_account"] = _("银行账号应为 8–30 位数字。")
        out["bank_account"] = account
    if present("region_code"):
        region = _text(data, "region_code")
        if region and get_region(region) is None:
            errors["region_code"] = _("无效的行政区划代码：%(code)s") % {"code": region}
        out["region_code"] = region
    if present("address"):
        out["address"] = _text(data, "address")[:200]
    return out, errors
