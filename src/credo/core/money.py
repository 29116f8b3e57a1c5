"""Money in integer fen (分) with Decimal arithmetic and exactly one rounding rule.

Amounts are stored as integers of fen (``MoneyField``), computed with ``Decimal`` and rounded
once, ROUND_HALF_UP, to the fen by :func:`quantize_fen`. Floats are refused everywhere: a
float has already lost the value a bank engineer will check.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import total_ordering
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

FEN = Decimal("0.01")
FEN_PER_YUAN = 100


def to_decimal(value: Any) -> Decimal:
    """Exact conversion of int/str/Decimal to Decimal. Floats are refused."""
    if isinstance(value, bool | float):
        raise TypeError("money amounts must not be floats or booleans; use str or Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        cleaned = value.strip().replace(",", "").replace("，", "").replace("¥", "")
        try:
            result = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    else:
        raise TypeError(f"cannot convert {type(value).__name__} to a money amount")
    if not result.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return result


def quantize_fen(value: Any) -> Decimal:
    """The one rounding rule: yuan to 2 decimals, ROUND_HALF_UP (0.005 → 0.01, -0.005 → -0.01)."""
    return to_decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


@total_ordering
class Money:
    """An amount of RMB, held as an integer number of fen.

    ``Money("12.345")`` rounds half-up to 12.35 yuan; ``Money.from_fen(1235)`` is exact.
    Arithmetic between Money values is exact; multiplying by a rate rounds once.
    """

    __slots__ = ("fen",)

    def __init__(self, yuan: Any = 0) -> None:
        if isinstance(yuan, Money):
            self.fen: int = yuan.fen
            return
        self.fen = int(quantize_fen(yuan) * FEN_PER_YUAN)

    @classmethod
    def from_fen(cls, fen: int) -> Money:
        if isinstance(fen, bool) or not isinstance(fen, int):
            raise TypeError("fen must be an int")
        money = cls.__new__(cls)
        money.fen = fen
        return money

    @classmethod
    def zero(cls) -> Money:
        return cls.from_fen(0)

    @property
    def yuan(self) -> Decimal:
        return (Decimal(self.fen) / FEN_PER_YUAN).quantize(FEN)

    # arithmetic --------------------------------------------------------------------------
    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money.from_fen(self.fen + other.fen)

    def __radd__(self, other: Any) -> Money:
        if other == 0:  # sum() starts at int 0
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money.from_fen(self.fen - other.fen)

    def __neg__(self) -> Money:
        return Money.from_fen(-self.fen)

    def __abs__(self) -> Money:
        return Money.from_fen(abs(self.fen))

    def __mul__(self, factor: Any) -> Money:
        """Multiply by an int or Decimal (e.g. a rate); rounds half-up to the fen once."""
        if isinstance(factor, Money):
            return NotImplemented
        return Money(self.yuan * to_decimal(factor))

    __rmul__ = __mul__

    def times(self, factor: Any) -> Money:
        return self * factor

    def allocate(self, weights: Sequence[int | Decimal]) -> list[Money]:
        """Split into parts proportional to ``weights`` that sum exactly to this amount.

        Largest-remainder method: each part gets floor(share) fen, the leftover fen go one by
        one to the parts with the largest remainders (ties: earlier part first).
        """
        if not weights:
            raise ValueError("allocate needs at least one weight")
        dec = [to_decimal(w) for w in weights]
        if any(w < 0 for w in dec):
            raise ValueError("weights must not be negative")
        total = sum(dec, Decimal(0))
        if total == 0:
            raise ValueError("weights must not all be zero")
        sign = -1 if self.fen < 0 else 1
        amount = abs(self.fen)
        exact = [Decimal(amount) * w / total for w in dec]
        parts = [int(e) for e in exact]  # floor for non-negative values
        leftover = amount - sum(parts)
        order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
        for i in order[:leftover]:
            parts[i] += 1
        return [Money.from_fen(sign * p) for p in parts]

    # comparison --------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Money):
            return self.fen == other.fen
        return NotImplemented

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.fen < other.fen

    def __hash__(self) -> int:
        return hash(("Money", self.fen))

    def __bool__(self) -> bool:
        return self.fen != 0

    # display -----------------------------------------------------------------------------
    def __str__(self) -> str:
        return f"{self.yuan:.2f}"

    def __repr__(self) -> str:
        return f"Money('{self.yuan:.2f}')"

    def format(self, *, symbol: bool = True) -> str:
        """``¥1,234,567.89``."""
        text = f"{self.yuan:,.2f}"
        return f"¥{text}" if symbol else text


def fen_of(value: Any) -> int:
    """Integer fen of a Money, an int of fen, or None (0) — for values read from the database,
    annotations and JSON where either form may arrive."""
    if value is None or value == "":
        return 0
    if isinstance(value, Money):
        return value.fen
    if isinstance(value, bool):
        raise TypeError("fen must not be a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise TypeError(f"not an amount of fen: {value!r}")


def format_fen(value: Any, *, grouping: bool = True, symbol: bool = False) -> str:
    """Integer fen (or Money) as yuan text: ``123456`` → ``1,234.56`` (``1234.56`` without
    grouping). The one display rule for amounts in pages, messages, exports and the API;
    ``None``/"" → "" (nothing to show)."""
    if value is None or value == "":
        return ""
    fen = fen_of(value)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    whole = f"{fen // FEN_PER_YUAN:,}" if grouping else str(fen // FEN_PER_YUAN)
    return f"{sign}{'¥' if symbol else ''}{whole}.{fen % FEN_PER_YUAN:02d}"


def fen_to_yuan(value: Any) -> Decimal:
    """Integer fen (or Money) → exact Decimal yuan with two places (for spreadsheets, charts)."""
    return (Decimal(fen_of(value)) / FEN_PER_YUAN).quantize(FEN)


def whole_yuan(value: Any) -> int:
    """Integer fen (or Money) → whole yuan, truncated toward zero (rule/score inputs in 元)."""
    fen = fen_of(value)
    return fen // FEN_PER_YUAN if fen >= 0 else -((-fen) // FEN_PER_YUAN)


def parse_money(value: Any, *, allow_negative: bool = False) -> Money:
    """User input → Money, with a Chinese error for bad input (used by forms and the API)."""
    try:
        dec = to_decimal(value)
    except (TypeError, ValueError):
        raise ValidationError(_("请输入有效的金额，例如 12345.67。"), code="invalid") from None
    if dec != dec.quantize(FEN):
        raise ValidationError(_("金额最多保留两位小数（精确到分）。"), code="precision")
    if dec < 0 and not allow_negative:
        raise ValidationError(_("金额不能为负数。"), code="negative")
    if abs(dec) >= Decimal("1e15"):
        raise ValidationError(_("金额超出允许范围。"), code="too_large")
    return Money(dec)


if TYPE_CHECKING:  # django-stubs: a MoneyField reads as Money, accepts Money/int fen/str
    _MoneyBase = models.BigIntegerField[Any, Money]
else:
    _MoneyBase = models.BigIntegerField


class MoneyField(_MoneyBase):
    """Stores fen as BIGINT; Python side is :class:`Money`."""

    description = _("金额（分）")

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Money | None:
        if value is None:
            return None
        return Money.from_fen(int(value))

    def to_python(self, value: Any) -> Money | None:
        if value is None or isinstance(value, Money):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return Money.from_fen(value)
        return parse_money(value, allow_negative=True)

    def get_prep_value(self, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, Money):
            return value.fen
        if isinstance(value, int) and not isinstance(value, bool):
            return value  # raw fen (queries like amount__gte=100000)
        return parse_money(value, allow_negative=True).fen

    def value_to_string(self, obj: Any) -> str:
        value = self.value_from_object(obj)
        return "" if value is None else str(value)
