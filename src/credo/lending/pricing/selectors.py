"""Reads for pricing: the one-year LPR in force (the 4 × LPR judicial protection ceiling)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

# The one-year LPR used when the LPR table (贷款市场报价利率) has no row in force: setting
# ``CREDO_LPR_ONE_YEAR_FALLBACK`` (percent), else 3.0 (the 1-year LPR fixed since 2025-05-20).
DEFAULT_LPR_ONE_YEAR = Decimal("3.0")


@dataclass(frozen=True)
class OneYearLpr:
    rate: Decimal  # percent
    effective_date: dt.date | None  # None: the fallback setting, no row in force
    source: str


def one_year_lpr(on_date: dt.date) -> OneYearLpr:
    from credo.lending.rates.models import LprRate

    row = (
        LprRate.objects.filter(effective_date__lte=on_date)
        .order_by("-effective_date")
        .only("effective_date", "one_year")
        .first()
    )
    if row is not None:
        return OneYearLpr(Decimal(row.one_year), row.effective_date, "table")
    value = getattr(settings, "CREDO_LPR_ONE_YEAR_FALLBACK", None) or DEFAULT_LPR_ONE_YEAR
    return OneYearLpr(Decimal(str(value)), None, "setting")
