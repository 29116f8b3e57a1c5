"""Raw cell values → the input of :func:`credo.customers.profile.clean_profile`: kind, industry
and region names as people write them."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from credo.core.regions import PLACEHOLDER_CITY_NAMES, _index
from credo.customers.industries import INDUSTRY_SECTIONS
from credo.customers.models import Customer
from credo.customers.profile import PROFILE_FIELDS

_KIND_VALUES = {
    "企业": Customer.Kind.ENTERPRISE,
    "公司": Customer.Kind.ENTERPRISE,
    "enterprise": Customer.Kind.ENTERPRISE,
    "个人": Customer.Kind.INDIVIDUAL,
    "individual": Customer.Kind.INDIVIDUAL,
    "自然人": Customer.Kind.INDIVIDUAL,
}
_INDUSTRY_BY_NAME = {name: code for code, name in INDUSTRY_SECTIONS}


_region_names: dict[str, str] | None = None


def _region_lookup() -> dict[str, str]:
    """Full names (``山西省太原市小店区``) and names without the province → code."""
    global _region_names
    if _region_names is None:
        names: dict[str, str] = {}
        index = _index()
        for code, region in index.by_code.items():
            parts = [
                r.name
                for r in _ancestors_fast(index.by_code, region)
                if r.name not in PLACEHOLDER_CITY_NAMES
            ]
            names.setdefault("".join(parts), code)
            if len(parts) > 1:
                names.setdefault("".join(parts[1:]), code)
        _region_names = names
    return _region_names


def _ancestors_fast(by_code: Mapping[str, Any], region: Any) -> list[Any]:
    # Guarded: a few cities (东莞市 441900 …) are listed as their own parent in the data.
    chain = []
    while region is not None and region not in chain:
        chain.append(region)
        region = by_code.get(region.parent_code) if region.parent_code else None
    return list(reversed(chain))


def _region_code(value: Any) -> str:
    text = str(value or "").strip().replace(" ", "")
    if not text or text.isdigit():
        return text
    return _region_lookup().get(text, text)  # unknown names fail in clean_profile


def _industry(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    if text in _INDUSTRY_BY_NAME:
        return _INDUSTRY_BY_NAME[text]
    head = text[0].upper()
    if len(text) == 1 or (text[1] in " 　-、.:：" and head in dict(INDUSTRY_SECTIONS)):
        return head
    return text  # → clean_profile reports "行业应为国民经济行业门类 A–T。"


def _kind(row: Mapping[str, Any]) -> str:
    text = str(row.get("kind") or "").strip()
    if text:
        return _KIND_VALUES.get(text.lower(), _KIND_VALUES.get(text, text))
    if row.get("uscc"):
        return Customer.Kind.ENTERPRISE
    if row.get("id_number"):
        return Customer.Kind.INDIVIDUAL
    return ""


def _profile_input(row: Mapping[str, Any]) -> dict[str, Any]:
    data = {k: row.get(k, "") for k in PROFILE_FIELDS}
    data["kind"] = _kind(row)
    data["industry"] = _industry(row.get("industry"))
    data["region_code"] = _region_code(row.get("region_code"))
    for key in ("registered_capital", "founded_on"):
        if isinstance(data[key], Decimal):
            data[key] = str(data[key])
    return data
