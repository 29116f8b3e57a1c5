"""The bins of one feature: :class:`Bin` and :class:`FeatureBinning` (lookup, serialisation)."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from credo.scorecard.engine.values import (
    _cat_key,
    _parse_float,
    to_float_array,
)


@dataclass
class Bin:
    label: str
    lo: float | None = None  # numeric: lower edge inclusive (None = -inf)
    hi: float | None = None  # numeric: upper edge exclusive (None = +inf)
    categories: list[str] | None = None  # categorical members
    missing: bool = False
    other: bool = False  # categorical catch-all (rare categories, unseen ones at scoring)
    count: int = 0
    bads: int = 0
    goods: int = 0
    bad_rate: float = 0.0
    woe: float = 0.0
    iv: float = 0.0
    points: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "lo": None if self.lo is None else float(self.lo),
            "hi": None if self.hi is None else float(self.hi),
            "categories": None if self.categories is None else [str(c) for c in self.categories],
            "missing": bool(self.missing),
            "other": bool(self.other),
            "count": int(self.count),
            "bads": int(self.bads),
            "goods": int(self.goods),
            "bad_rate": _jf(self.bad_rate),
            "woe": _jf(self.woe),
            "iv": _jf(self.iv),
            "points": int(self.points),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Bin:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def _jf(v: Any) -> float:
    f = float(v)
    return f if math.isfinite(f) else 0.0


@dataclass
class FeatureBinning:
    name: str
    kind: str  # "numeric" | "categorical"
    bins: list[Bin]  # ordered; always exactly one missing bin, last
    iv: float
    trend: str = ""  # numeric: "asc" (bad rate rises with x) / "desc" / ""
    note: str = ""
    label: str = ""  # human label (Chinese), "" = use name
    _cache: Any = field(default=None, init=False, repr=False, compare=False)

    # -- lookup --------------------------------------------------------------------------
    def _prepare(self) -> Any:
        if self._cache is None:
            miss = next(i for i, b in enumerate(self.bins) if b.missing)
            if self.kind == "numeric":
                regular = [b for b in self.bins if not b.missing]
                cuts = [float(b.lo) for b in regular[1:] if b.lo is not None]
                self._cache = (miss, cuts, None, None)
            else:
                catmap: dict[str, int] = {}
                other: int | None = None
                for i, b in enumerate(self.bins):
                    if b.other:
                        other = i
                    for c in b.categories or ():
                        catmap[c] = i
                self._cache = (miss, None, catmap, other)
        return self._cache

    @property
    def missing_index(self) -> int:
        return int(self._prepare()[0])

    def display_name(self) -> str:
        return self.label or self.name

    def index(self, value: Any) -> int:
        """Index of the bin of ``value``: None/NaN/"" → missing bin; numeric by edges
        (unparseable → missing); categorical: member bin, else the other bin if any, else the
        missing bin."""
        miss, cuts, catmap, other = self._prepare()
        if self.kind == "numeric":
            f = _parse_float(value)
            if f != f:
                return miss
            return bisect_right(cuts, f)
        key = _cat_key(value)
        if key is None:
            return miss
        i = catmap.get(key)
        if i is not None:
            return i
        return other if other is not None else miss

    def indices(self, values: Sequence[Any]) -> np.ndarray:
        """Vectorised :meth:`index`."""
        miss, cuts, catmap, other = self._prepare()
        if self.kind == "numeric":
            x = to_float_array(values)
            idx = np.searchsorted(np.asarray(cuts, dtype=float), x, side="right")
            idx[np.isnan(x)] = miss
            return idx.astype(np.int64)
        keys = [_cat_key(v) for v in values]
        return _cat_indices(keys, catmap, other, miss)

    def woe_of(self, values: Sequence[Any]) -> np.ndarray:
        woes = np.array([b.woe for b in self.bins], dtype=float)
        return woes[self.indices(values)]

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "label": self.label,
            "bins": [b.to_dict() for b in self.bins],
            "iv": _jf(self.iv),
            "trend": self.trend,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FeatureBinning:
        return cls(
            name=d["name"],
            kind=d["kind"],
            bins=[Bin.from_dict(b) for b in d["bins"]],
            iv=float(d.get("iv", 0.0)),
            trend=d.get("trend", ""),
            note=d.get("note", ""),
            label=d.get("label", ""),
        )


def _cat_indices(
    keys: Sequence[str | None], catmap: Mapping[str, int], other: int | None, miss: int
) -> np.ndarray:
    default = other if other is not None else miss
    get = catmap.get
    return np.fromiter(
        (miss if k is None else get(k, default) for k in keys), dtype=np.int64, count=len(keys)
    )
