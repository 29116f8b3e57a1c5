"""The books' part of ``credo ledger verify``: debits = credits in every month, and every
closed month's balances are still exactly what its close stored."""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from credo.lending.books.models import AccountingPeriod, PeriodBalance
from credo.lending.ledger import fen
from credo.lending.models import JournalLine


def _as_date(value: object) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value  # type: ignore[return-value]


def period_problems() -> list[str]:
    problems: list[str] = []
    # one grouped pass: movements per (month, account)
    moves: dict[dt.date, dict[int, tuple[int, int]]] = {}
    for row in (
        JournalLine.objects.annotate(m=TruncMonth("entry__business_date"))
        .values("m", "account_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    ):
        month = _as_date(row["m"])
        moves.setdefault(month, {})[row["account_id"]] = (fen(row["d"]), fen(row["c"]))
    for month in sorted(moves):
        debit = sum(d for d, _c in moves[month].values())
        credit = sum(c for _d, c in moves[month].values())
        if debit != credit:
            problems.append(f"period {month:%Y-%m}: debits {debit} ≠ credits {credit} (fen)")
    stored: dict[dt.date, dict[int, PeriodBalance]] = {}
    for b in PeriodBalance.objects.select_related("period").exclude(
        period__status=AccountingPeriod.Status.OPEN
    ):
        stored.setdefault(b.period.month, {})[b.account_id] = b
    if not stored:
        return problems
    # running closing balances month by month from the first posting
    balance: dict[int, int] = {}
    months = sorted(set(moves) | set(stored))
    for month in months:
        for acc, (d, c) in moves.get(month, {}).items():
            balance[acc] = balance.get(acc, 0) + d - c
        if month not in stored:
            continue
        rows = stored[month]
        for acc in set(rows) | {a for a, v in balance.items() if v}:
            now = balance.get(acc, 0)
            kept_row = rows.get(acc)
            kept = kept_row.closing if kept_row else 0
            if now != kept:
                problems.append(
                    f"closed period {month:%Y-%m}: account {acc} closing balance is now {now}, "
                    f"{kept} at close (fen) — something was posted into a closed month"
                )
            if kept_row is not None:
                d, c = moves.get(month, {}).get(acc, (0, 0))
                if (d, c) != (kept_row.debit.fen, kept_row.credit.fen):
                    problems.append(
                        f"closed period {month:%Y-%m}: account {acc} movements now "
                        f"{d}/{c}, {kept_row.debit.fen}/{kept_row.credit.fen} at close (fen)"
                    )
    return problems
