"""抵押率 (loan-to-value) arithmetic, framework-free.

LTV = loan amount ÷ current collateral value × 100, in percent with two decimals rounded
half-up (the usual bank presentation, e.g. 300,000 on a 500,000 valuation → 60.00 %). No
valuation (or a zero one) means no LTV: the loan is not secured by a known value.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DEFAULT_MAX_LTV = Decimal("70")
_CENT = Decimal("0.01")


def ltv_pct(loan_fen: int, value_fen: int | None) -> Decimal | None:
    if not value_fen or value_fen <= 0 or loan_fen < 0:
        return None
    return (Decimal(loan_fen) * 100 / Decimal(value_fen)).quantize(_CENT, rounding=ROUND_HALF_UP)


def exceeds(ltv: Decimal | None, limit: Decimal | None) -> bool:
    """Over the maximum 抵押率: a warning, never a refusal (the approver decides)."""
    return ltv is not None and limit is not None and ltv > limit


def parse_limit(raw: str | None) -> Decimal:
    """``CREDO_COLLATERAL_MAX_LTV`` (percent, 0 < x ≤ 1000); empty → 70."""
    text = (raw or "").strip()
    if not text:
        return DEFAULT_MAX_LTV
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise ValueError(f"CREDO_COLLATERAL_MAX_LTV={text!r}: not a number") from None
    if not value.is_finite() or not 0 < value <= 1000:
        raise ValueError(f"CREDO_COLLATERAL_MAX_LTV={text!r}: must be between 0 and 1000")
    return value


def days_left(today_ordinal: int, expiry_ordinal: int) -> int:
    return expiry_ordinal - today_ordinal
