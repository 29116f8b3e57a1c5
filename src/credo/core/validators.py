"""Chinese identifiers: 统一社会信用代码 (GB 32100-2015), 居民身份证号 (GB 11643-1999), phones.

The ``is_valid_*`` functions are pure; the ``validate_*`` functions raise Django
``ValidationError`` with a Chinese message, for model fields, forms and the API.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from credo.core import clock

# --- 统一社会信用代码 -------------------------------------------------------------------------
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def normalize_uscc(value: str) -> str:
    return (value or "").strip().upper()


def is_valid_uscc(value: str) -> bool:
    code = normalize_uscc(value)
    if not _USCC_RE.match(code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def validate_uscc(value: str) -> None:
    code = normalize_uscc(value)
    if len(code) != 18:
        raise ValidationError(_("统一社会信用代码应为 18 位。"), code="length")
    if not _USCC_RE.match(code):
        raise ValidationError(_("统一社会信用代码包含无效字符。"), code="chars")
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(_("统一社会信用代码校验位错误，请核对。"), code="checksum")


# --- 居民身份证号 -----------------------------------------------------------------------------
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")


def id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def normalize_id_number(value: str) -> str:
    return (value or "").strip().upper()


def id_birth_date(value: str) -> dt.date | None:
    code = normalize_id_number(value)
    try:
        return dt.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return None


def is_valid_id_number(value: str, *, today: dt.date | None = None) -> bool:
    try:
        validate_id_number(value, today=today)
    except ValidationError:
        return False
    return True


def validate_id_number(value: str, *, today: dt.date | None = None) -> None:
    code = normalize_id_number(value)
    if len(code) != 18:
        raise ValidationError(_("身份证号应为 18 位。"), code="length")
    if not _ID_RE.match(code):
        raise ValidationError(_("身份证号前 17 位应为数字，最后一位为数字或 X。"), code="chars")
    birth = id_birth_date(code)
    today = today or clock.today()
    if birth is None or birth.year < 1900 or birth > today:
        raise ValidationError(_("身份证号中的出生日期无效。"), code="birth_date")
    if id_check_char(code[:17]) != code[17]:
        raise ValidationError(_("身份证号校验位错误，请核对。"), code="checksum")


def id_gender(value: str) -> str:
    """ "male" / "female" from the sequence digit (odd = male)."""
    return "male" if int(normalize_id_number(value)[16]) % 2 else "female"


# --- phones ----------------------------------------------------------------------------------
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalize_phone(value: str) -> str:
    """Strip spaces, dashes inside mobiles and a +86/0086 prefix."""
    text = re.sub(r"[\s()（）]", "", value or "")
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :].lstrip("-")
    if re.fullmatch(r"1[\d-]{10,12}", text):
        text = text.replace("-", "")
    return text


def is_valid_mobile(value: str) -> bool:
    return bool(_MOBILE_RE.match(normalize_phone(value)))


def validate_mobile(value: str) -> None:
    if not is_valid_mobile(value):
        raise ValidationError(_("请输入有效的 11 位手机号码。"), code="mobile")


def validate_phone(value: str) -> None:
    """Mobile or landline (区号-号码[-分机])."""
    phone = normalize_phone(value)
    if not (_MOBILE_RE.match(phone) or _LANDLINE_RE.match(phone)):
        raise ValidationError(
            _("请输入有效的电话号码（11 位手机号或 区号-座机号）。"), code="phone"
        )
