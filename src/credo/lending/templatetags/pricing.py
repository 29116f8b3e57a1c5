"""年化利率 on pages that only have an object (issue 20): ``{% load pricing %}``.

* ``{{ loan|loan_apr }}`` — a loan's terms with its own fees (``{{ loan|loan_apr_only }}``: the
  :class:`~credo.lending.pricing.apr.Apr` alone, without the warning and cap);
* ``{{ app|terms_apr }}`` — any object with ``product_version``, ``final_amount`` (fen),
  ``final_months`` and ``annual_rate`` (an application: the requested, else approved, terms);
* ``{% prepay_apr loan remaining_principal option %}`` — a prepayment quote's new schedule;
* ``{% product_apr version %}`` — the range of a product version.

Each returns a :class:`credo.lending.pricing.caps.Disclosure` (``.percent``, ``.effective``,
``.warning``, ``.over_cap``) or ``None`` when the terms have no rate; never raises on a page.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from credo.core.money import Money
from credo.lending.errors import InvalidLoan, LendingError
from credo.lending.pricing import caps
from credo.lending.pricing.apr import Apr, AprError, apr_from_payments, periods_per_year_of

register = template.Library()


@register.filter
def loan_apr(loan: Any) -> caps.Disclosure | None:
    if loan is None:
        return None
    return caps.loan_disclosure(loan)


@register.filter
def loan_apr_only(loan: Any) -> Apr | None:
    """The loan's APR alone (``.percent_str``, ``.effective_percent_str``), for a page that
    shows neither the 4 × LPR warning nor the cap of :func:`loan_apr` (so the LPR is not read).
    """
    if loan is None:
        return None
    try:
        return caps.loan_apr(loan)
    except InvalidLoan:  # as caps.loan_disclosure
        return None


@register.filter
def terms_apr(obj: Any) -> caps.Disclosure | None:
    pv = getattr(obj, "product_version", None)
    if pv is None:
        return None
    try:
        amount = obj.final_amount
        principal = amount if isinstance(amount, int) else Money(amount).fen
        apr = caps.version_terms_apr(
            pv,
            principal=principal,
            months=int(obj.final_months),
            annual_rate=obj.annual_rate,
        )
    except (LendingError, AttributeError, TypeError, ValueError):
        return None
    return caps.disclose(apr, cap=caps.cap_of(pv))


@register.simple_tag
def prepay_apr(loan: Any, remaining: Any, option: Any) -> caps.Disclosure | None:
    """The new schedule of a prepayment option (rows of yuan strings) after ``remaining``
    (到期一次还本付息: none — one payment, its period is not in the option)."""
    if getattr(loan, "method", "bullet") == "bullet":
        return None
    try:
        received = Money(str(remaining)).fen
        fee = caps.fen(loan.installment_fee)
        rows = option["installments"]
        payments = [Money(str(r["payment"])).fen + fee for r in rows]
        per_year = periods_per_year_of(loan.method, len(rows) or 1)
        apr = apr_from_payments(received, payments, per_year)
    except (AprError, KeyError, TypeError, ValueError, InvalidOperation, AttributeError):
        return None
    return caps.disclose(apr, cap=caps.cap_of(loan.product_version))


@register.simple_tag
def product_apr(version: Any) -> dict[str, Any] | None:
    try:
        rng = caps.version_range(version)
    except LendingError:
        return None
    return {
        "label": rng.label,
        "high": rng.high.percent_str,
        "over_cap": Decimal(rng.high.percent_str) > caps.cap_of(version),
        "warning": caps.lpr_warning(rng.high),
    }


@register.simple_tag
def published_product_aprs() -> list[dict[str, Any]]:
    """Each published product version's APR range (a borrower choosing a product sees it)."""
    from credo.lending.selectors import published_versions

    out = []
    for version in published_versions():
        info = product_apr(version)
        if info is not None:
            out.append({"name": version.product.name, **info})
    return out
