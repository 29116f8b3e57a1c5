"""Framework-free rules of the servicing approvals (property-tested in tests/lending).

* :func:`check_amounts` — a waiver never exceeds what is owed per component, and only the
  components the policy allows;
* :func:`approver_limit` — the largest waiver an approver may approve (per role, configurable);
* :func:`upgrade_condition` — the regulatory condition for moving a 不良 loan up
  (《商业银行金融资产风险分类办法》2023 第十一条/第二十四条: arrears fully repaid and at least two
  consecutive repayment periods or 6 months, whichever is longer, paid on time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: components a waiver may touch, in display order (复利 only where the loan tracks it)
ALL_COMPONENTS: tuple[str, ...] = ("penalty", "compound", "fee", "interest")
#: product policy by default: 罚息 and fees only (interest needs a setting)
DEFAULT_COMPONENTS: tuple[str, ...] = ("penalty", "compound", "fee")

CLASS_ORDER: tuple[str, ...] = ("normal", "special_mention", "substandard", "doubtful", "loss")
NON_PERFORMING: frozenset[str] = frozenset({"substandard", "doubtful", "loss"})


def class_rank(value: str) -> int:
    return CLASS_ORDER.index(value)


def is_upgrade(from_class: str, to_class: str) -> bool:
    """A better class (lower rank) than before."""
    return class_rank(to_class) < class_rank(from_class)


def check_amounts(
    amounts: Mapping[str, int], owed: Mapping[str, int], allowed: Iterable[str]
) -> list[tuple[str, str]]:
    """Problems as (component, code): ``not_allowed``, ``negative``, ``over_owed``; and
    ("", ``empty``) when nothing is waived. An empty list means the amounts are acceptable."""
    allowed = set(allowed)
    problems: list[tuple[str, str]] = []
    for comp, fen in amounts.items():
        if fen < 0:
            problems.append((comp, "negative"))
        elif fen > 0 and comp not in allowed:
            problems.append((comp, "not_allowed"))
        elif fen > int(owed.get(comp, 0)):
            problems.append((comp, "over_owed"))
    # 罚息 is owed including its 复利 part: both waived together cannot exceed it
    both = max(amounts.get("penalty", 0), 0) + max(amounts.get("compound", 0), 0)
    if not problems and amounts.get("compound", 0) > 0 and both > int(owed.get("penalty", 0)):
        problems.append(("penalty", "over_owed"))
    if not problems and sum(max(v, 0) for v in amounts.values()) <= 0:
        problems.append(("", "empty"))
    return problems


def approver_limit(role_codes: Iterable[str], setting: Any) -> int | None:
    """The approver's waiver limit in fen; ``None`` = no limit.

    ``setting`` (``CREDO_WAIVER_LIMIT_FEN``): unset/None → no limit; an int → one limit for
    every approver; a mapping role code → fen (``"*"`` for roles not listed; a role mapped to
    None has no limit) → the largest limit among the approver's roles."""
    if setting is None:
        return None
    if isinstance(setting, int):
        return setting
    limits: list[int | None] = []
    for code in role_codes:
        if code in setting:
            limits.append(setting[code])
    if not limits:
        return setting.get("*", 0) if "*" in setting else 0
    if any(v is None for v in limits):
        return None
    return max(int(v) for v in limits if v is not None)


@dataclass(frozen=True)
class Period:
    """One repayment period as the upgrade rule sees it."""

    due_date: dt.date
    paid_on: dt.date | None  # None: not fully paid


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class UpgradeCheck:
    ok: bool
    code: str  # "ok", "arrears", "periods", "months"
    on_time_periods: int = 0
    since: dt.date | None = None
    earliest: dt.date | None = None


def upgrade_condition(
    periods: Iterable[Period], *, today: dt.date, start: dt.date, dpd: int
) -> UpgradeCheck:
    """Whether a 不良 loan may move up on ``today``: no arrears (DPD 0 and every period due before
    today paid), and since the arrears were cleared (the last late period's payment; the loan's
    start if it was never late) at least two consecutive periods fell due and were paid on time
    and at least 6 months passed — the longer of the two."""
    due = sorted((p for p in periods if p.due_date < today), key=lambda p: p.due_date)
    if dpd > 0 or any(p.paid_on is None for p in due):
        return UpgradeCheck(False, "arrears")
    cleared = start
    on_time = 0
    for p in due:
        assert p.paid_on is not None
        if p.paid_on > p.due_date:
            cleared = max(cleared, p.paid_on)
            on_time = 0
        else:
            on_time += 1
    # periods paid on time that fell due after the arrears were cleared
    counted = sum(1 for p in due if p.due_date > cleared and p.paid_on and p.paid_on <= p.due_date)
    on_time = min(on_time, counted)
    earliest = add_months(cleared, 6)
    if on_time < 2:
        return UpgradeCheck(False, "periods", on_time, cleared, earliest)
    if today < earliest:
        return UpgradeCheck(False, "months", on_time, cleared, earliest)
    return UpgradeCheck(True, "ok", on_time, cleared, earliest)
