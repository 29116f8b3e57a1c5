"""Normalization of identifiers before blind indexing and comparison (one place per kind)."""

from __future__ import annotations

from collections.abc import Callable

from credo.core.validators import normalize_id_number, normalize_phone, normalize_uscc


def _default(value: str) -> str:
    return (value or "").strip()


def _bank_account(value: str) -> str:
    return "".join(ch for ch in (value or "") if ch.isdigit())


NORMALIZERS: dict[str, Callable[[str], str]] = {
    "id_number": normalize_id_number,
    "phone": normalize_phone,
    "uscc": normalize_uscc,
    "bank_account": _bank_account,
}


def normalize(kind: str, value: str) -> str:
    return NORMALIZERS.get(kind, _default)(value or "")
