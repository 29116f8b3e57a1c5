"""Pure rules of restructuring (no Django): 展期 limits and the classification floor.

展期 (《贷款通则》第十二条): "短期贷款展期期限累计不得超过原贷款期限；中期贷款展期期限累计不得
超过原贷款期限的一半；长期贷款展期期限累计不得超过三年。" Short term = up to 1 year, medium term =
over 1 and up to 5 years, long term = over 5 years (《贷款通则》第九条).

Classification (《商业银行金融资产风险分类办法》, 2023, 第十九–二十二条), as implemented:

* a restructured loan gets a classification floor for its observation period: it is classified no
  better than 关注 if it was 正常 or 关注 before; no better than its class before restructuring
  (次级 / 可疑 / 损失) if it was 不良 before;
* restructuring again during the observation period: no better than 次级;
* the observation period starts on the first repayment date of the new schedule, contains at
  least two consecutive repayment periods and lasts at least one year: it ends on the later of
  (first due date + 12 months) and the second due date of the new schedule.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence

# best → worst
CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")
NPL = ("substandard", "doubtful", "loss")
SHORT_MAX = 12
MEDIUM_MAX = 60
LONG_EXTENSION_MAX = 36


def term_kind(original_months: int) -> str:
    if original_months <= SHORT_MAX:
        return "short"
    if original_months <= MEDIUM_MAX:
        return "medium"
    return "long"


def max_extension(original_months: int) -> int:
    """Cumulative 展期 allowed (months) for a loan of ``original_months``."""
    kind = term_kind(original_months)
    if kind == "short":
        return original_months
    if kind == "medium":
        return original_months // 2
    return LONG_EXTENSION_MAX


def extension_refusal(original_months: int, already: int, extra: int) -> str | None:
    """None when ``extra`` more months of 展期 are allowed, else the reason (Chinese)."""
    if extra <= 0:
        return "展期期限须大于 0 个月。"
    limit = max_extension(original_months)
    if already + extra <= limit:
        return None
    label = {"short": "短期贷款", "medium": "中期贷款", "long": "长期贷款"}[
        term_kind(original_months)
    ]
    rule = {
        "short": "累计不得超过原贷款期限",
        "medium": "累计不得超过原贷款期限的一半",
        "long": "累计不得超过三年",
    }[term_kind(original_months)]
    return (
        f"展期期限超限：原贷款期限 {original_months} 个月，属{label}，展期{rule}"
        f"（最多 {limit} 个月）；已展期 {already} 个月，本次申请 {extra} 个月"
        f"（《贷款通则》第十二条）。"
    )


def worse(a: str, b: str) -> str:
    """The worse of two classes ('' counts as no floor)."""
    if not a:
        return b
    if not b:
        return a
    return a if CLASSES.index(a) >= CLASSES.index(b) else b


def floor_after(before: str, *, again_in_observation: bool) -> str:
    """The best class a loan may have after restructuring (its floor)."""
    floor = before if before in NPL else "special_mention"
    if again_in_observation:
        floor = worse(floor, "substandard")
    return floor


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def observation_end(due_dates: Sequence[dt.date]) -> dt.date:
    """Last day of the observation period for a new schedule's due dates (non-empty)."""
    first = due_dates[0]
    end = _add_months(first, 12)
    if len(due_dates) > 1:
        end = max(end, due_dates[1])
    return end


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from ``start`` to ``end`` (at least 1 when end > start)."""
    n = (end.year - start.year) * 12 + end.month - start.month
    if end.day > start.day and end.day != calendar.monthrange(end.year, end.month)[1]:
        n += 1
    return max(n, 1)
