"""Vendor-neutral OCR fields → Credo's form fields, validated, with confidence.

Pure (no database): ID numbers and 统一社会信用代码 go through ``credo.core.validators``,
bank card numbers through the Luhn check, dates become ISO ``YYYY-MM-DD``, money becomes yuan.
A value that fails validation keeps at most ``INVALID_CONFIDENCE``: it is shown, highlighted,
with the reason, and the form's own validation still refuses it on save.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core import clock
from credo.core.masking import mask
from credo.core.validators import (
    id_birth_date,
    id_gender,
    normalize_id_number,
    normalize_uscc,
    validate_id_number,
    validate_uscc,
)
from credo.ocr.providers.base import BACK, BANK_CARD, BUSINESS_LICENSE, ID_CARD, OcrResult

LOW_CONFIDENCE = 0.8
INVALID_CONFIDENCE = 0.3

LABELS: dict[str, Any] = {
    "name": gettext_lazy("名称/姓名"),
    "sex": gettext_lazy("性别"),
    "nation": gettext_lazy("民族"),
    "birth": gettext_lazy("出生日期"),
    "address": gettext_lazy("地址"),
    "id_number": gettext_lazy("身份证号"),
    "authority": gettext_lazy("签发机关"),
    "valid_from": gettext_lazy("有效期起"),
    "valid_to": gettext_lazy("有效期至"),
    "uscc": gettext_lazy("统一社会信用代码"),
    "legal_representative": gettext_lazy("法定代表人"),
    "registered_capital": gettext_lazy("注册资本（元）"),
    "founded_on": gettext_lazy("成立日期"),
    "company_type": gettext_lazy("企业类型"),
    "business_scope": gettext_lazy("经营范围"),
    "valid_period": gettext_lazy("营业期限"),
    "card_number": gettext_lazy("银行卡号"),
    "bank_name": gettext_lazy("开户银行"),
    "card_type": gettext_lazy("卡类型"),
}

#: OCR field → the customer form field it fills ("" = shown for information only).
TARGETS: dict[str, str] = {
    "name": "name",
    "id_number": "id_number",
    "address": "address",
    "uscc": "uscc",
    "legal_representative": "legal_representative",
    "registered_capital": "registered_capital",
    "founded_on": "founded_on",
    "card_number": "bank_account",
}
#: Fields holding personal identifiers: masked in the request log (credo.core.masking kinds).
SENSITIVE: dict[str, str] = {"id_number": "id_number", "card_number": "bank_account"}
#: A person's details on an ID card: not kept in the request log (masked entirely).
PERSONAL_DETAILS = frozenset({"name", "sex", "nation", "birth", "address"})
LONG_TERM = "长期"


@dataclass
class Field:
    key: str
    label: str
    value: str
    confidence: float
    target: str = ""
    valid: bool = True
    message: str = ""

    @property
    def low(self) -> bool:
        return self.confidence < LOW_CONFIDENCE

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["low"] = self.low
        data["confidence"] = round(self.confidence, 2)
        return data

    def as_log(self, *, personal: bool = True) -> dict[str, Any]:
        """What the request log (and its audit row) keeps: identifiers masked, a person's details
        (name, sex, ethnicity, birth date, address of an ID card) hidden, confidence and verdict
        always. The audit chain cannot be erased, so it holds no personal information beyond
        what identifies the request (PIPL 最小必要); a business licence's public registration
        data stays readable (``personal=False``)."""
        if self.key in SENSITIVE:
            value = mask(SENSITIVE[self.key], self.value)
        elif personal and self.key in PERSONAL_DETAILS:
            value = mask("all", self.value)
        else:
            value = self.value
        return {
            "key": self.key,
            "value": value[:200],
            "confidence": round(self.confidence, 2),
            "valid": self.valid,
        }


# --- pure helpers ----------------------------------------------------------------------------
_DATE_RE = re.compile(r"(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?")
_MONTH_YEAR_RE = re.compile(r"^(\d{1,2})\s*/\s*(\d{2,4})$")


def parse_date(text: str) -> dt.date | None:
    match = _DATE_RE.search(text or "")
    if not match:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


_UNITS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}


def parse_capital(text: str) -> str:
    """'人民币100万元' → '1000000.00' (yuan); '' when there is no number."""
    match = re.search(r"(\d[\d,]*(?:\.\d+)?)\s*(万|亿)?", text or "")
    if not match:
        return ""
    try:
        amount = Decimal(match.group(1).replace(",", ""))
    except InvalidOperation:
        return ""
    amount *= _UNITS.get(match.group(2) or "", Decimal(1))
    return str(amount.quantize(Decimal("0.01")))


def _date_field(key: str, raw: str, confidence: float) -> Field:
    field = Field(key, str(LABELS[key]), raw, confidence, TARGETS.get(key, ""))
    if raw.strip() == LONG_TERM:
        field.value = LONG_TERM
        return field
    month_year = _MONTH_YEAR_RE.match(raw.strip())
    if month_year:  # bank cards print MM/YY or MM/YYYY
        year = int(month_year.group(2))
        year = year + 2000 if year < 100 else year
        field.value = f"{year:04d}-{int(month_year.group(1)):02d}"
        return field
    date = parse_date(raw)
    if date is None:
        field.valid, field.message = False, _("日期无法识别，请核对。")
        field.confidence = min(confidence, INVALID_CONFIDENCE)
    else:
        field.value = date.isoformat()
    return field


def _invalid(field: Field, message: str) -> Field:
    field.valid, field.message = False, message
    field.confidence = min(field.confidence, INVALID_CONFIDENCE)
    return field


ORDER: dict[str, tuple[str, ...]] = {
    "id_card_front": ("name", "id_number", "sex", "nation", "birth", "address"),
    "id_card_back": ("authority", "valid_from", "valid_to"),
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
DATE_KEYS = ("birth", "founded_on", "valid_from", "valid_to")


def _validated(field: Field, validator: Callable[[str], None]) -> None:
    try:
        validator(field.value)
    except ValidationError as exc:
        _invalid(field, exc.messages[0])


def _check(field: Field, kind: str, today: dt.date) -> None:
    """Normalise and validate one field in place."""
    key = field.key
    if key == "id_number":
        field.value = normalize_id_number(field.value).replace(" ", "")
        _validated(field, lambda v: validate_id_number(v, today=today))
    elif key == "uscc":
        field.value = normalize_uscc(field.value).replace(" ", "")
        _validated(field, validate_uscc)
    elif key == "card_number":
        field.value = re.sub(r"[\s-]", "", field.value)
        if not luhn_valid(field.value):
            _invalid(field, _("银行卡号校验未通过（Luhn），请核对。"))
    elif key == "registered_capital":
        field.value = parse_capital(field.value)
        if not field.value:
            _invalid(field, _("注册资本无法识别，请核对。"))
    elif key == "valid_to" and kind == ID_CARD and field.valid and field.value != LONG_TERM:
        if dt.date.fromisoformat(field.value) < today:
            field.message = _("证件已过期。")
    elif key == "name" and len(field.value) > 120:
        _invalid(field, _("名称不能超过 120 个字符。"))
    elif key == "business_scope":
        field.value = field.value[:500]


def _cross_check(fields: list[Field]) -> None:
    """The ID number carries the birth date and sex: a disagreement means a misread."""
    id_number = next((f.value for f in fields if f.key == "id_number" and f.valid), "")
    if not id_number:
        return
    birth = id_birth_date(id_number)
    sex = "男" if id_gender(id_number) == "male" else "女"
    for field in fields:
        if field.key == "birth" and field.valid and birth and field.value != birth.isoformat():
            _invalid(field, _("出生日期与身份证号不一致，请核对。"))
        if field.key == "sex" and field.value != sex:
            _invalid(field, _("性别与身份证号不一致，请核对。"))


def normalize(
    kind: str, result: OcrResult, *, side: str = "front", today: dt.date | None = None
) -> list[Field]:
    """Credo's fields from a provider's result, in a stable order."""
    today = today or clock.today()
    order_key = f"{kind}_{'back' if side == BACK else 'front'}" if kind == ID_CARD else kind
    out: list[Field] = []
    for key in ORDER[order_key]:
        item = result.fields.get(key)
        if item is None or not str(item[0]).strip():
            continue
        value, confidence = str(item[0]).strip(), float(item[1])
        if key in DATE_KEYS:
            field = _date_field(key, value, confidence)
        else:
            field = Field(key, str(LABELS[key]), value, confidence, TARGETS.get(key, ""))
        _check(field, kind, today)
        out.append(field)
    _cross_check(out)
    return out
