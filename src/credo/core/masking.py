"""Masking of sensitive values for display (ID: first 6 + last 4, phone: 3 + 4).

Masks are applied whenever a user's field permission does not allow the clear value.
"""

from __future__ import annotations

from collections.abc import Callable

MASK_CHAR = "*"


def mask_id_number(value: str) -> str:
    """身份证号: keep the first 6 (region) and last 4 characters."""
    value = (value or "").strip()
    if len(value) <= 10:
        return MASK_CHAR * len(value)
    return value[:6] + MASK_CHAR * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """手机号: keep the first 3 and last 4 digits."""
    value = (value or "").strip()
    if len(value) <= 7:
        return MASK_CHAR * len(value)
    return value[:3] + MASK_CHAR * (len(value) - 7) + value[-4:]


def mask_bank_account(value: str) -> str:
    """银行账号: keep only the last 4 digits."""
    value = (value or "").replace(" ", "")
    if len(value) <= 4:
        return MASK_CHAR * len(value)
    return MASK_CHAR * (len(value) - 4) + value[-4:]


def mask_all(value: str) -> str:
    return MASK_CHAR * min(len(value or ""), 8)


MASKS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "bank_account": mask_bank_account,
    "all": mask_all,
}


def mask(kind: str, value: str | None) -> str:
    """Mask ``value`` with the named mask (``id_number``, ``phone``, ``bank_account``, ``all``)."""
    if value is None or value == "":
        return ""
    return MASKS.get(kind, mask_all)(str(value))
