"""The published LPR fixings shipped with Credo (data only; used by migration 0011 and tests).

(发布日, 1 年期 %, 5 年期以上 %), each in force from that day until the next row, as published by
the 全国银行间同业拆借中心 since the August 2019 LPR reform. Unchanged after 2025-05-20 as far as
known when this was written — the lender must keep the table current (贷款市场报价利率 page).
"""

from __future__ import annotations

SOURCE = "全国银行间同业拆借中心公布（发布日，节假日顺延）"

SHIPPED_LPR: tuple[tuple[str, str, str], ...] = (
    ("2019-08-20", "4.25", "4.85"),
    ("2019-09-20", "4.20", "4.85"),
    ("2019-11-20", "4.15", "4.80"),
    ("2020-02-20", "4.05", "4.75"),
    ("2020-04-20", "3.85", "4.65"),
    ("2021-12-20", "3.80", "4.65"),
    ("2022-01-20", "3.70", "4.60"),
    ("2022-05-20", "3.70", "4.45"),
    ("2022-08-22", "3.65", "4.30"),
    ("2023-06-20", "3.55", "4.20"),
    ("2023-08-21", "3.45", "4.20"),
    ("2024-02-20", "3.45", "3.95"),
    ("2024-07-22", "3.35", "3.85"),
    ("2024-10-21", "3.10", "3.60"),
    ("2025-05-20", "3.00", "3.50"),
)


def seed(model: type) -> int:
    """Insert the shipped fixings missing from ``model`` (LprRate or its migration state)."""
    import datetime as dt
    from decimal import Decimal

    created = 0
    for day, one, five in SHIPPED_LPR:
        _row, new = model.objects.get_or_create(  # type: ignore[attr-defined]
            effective_date=dt.date.fromisoformat(day),
            defaults={"one_year": Decimal(one), "five_year": Decimal(five), "source": SOURCE},
        )
        created += new
    return created
