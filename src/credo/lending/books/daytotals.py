"""Per-account-per-day totals of the journal (:class:`LedgerDayTotal`), kept exact lazily.

Before a trial balance reads a date range, :func:`refresh` compares every day's seal (the
number and the last id of that day's journal entries when its totals were taken) with the
entries now in the journal — one grouped count over the indexed ``business_date`` — and
recomputes only the days that changed (today, or a day a back-dated posting reached). Entries
and lines are insert-only, so an unchanged count means unchanged totals.

Race-safe without locks: the fingerprint is read *before* the totals, so a posting committing
in between is in the totals but not in the seal, and the next refresh simply recomputes that
day again. Two refreshes of the same day at once: the loser's unique-constraint error makes
it fall back to reading the journal directly (:func:`Busy`).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Sum

from credo.lending.books.models import LedgerDaySeal, LedgerDayTotal
from credo.lending.ledger import fen
from credo.lending.models import JournalEntry, JournalLine


class Busy(Exception):
    """Another refresh wrote the same days concurrently."""


def refresh(start: dt.date | None, end: dt.date) -> int:
    """Bring the day totals of ``start``–``end`` (``None``: from the first posting) up to
    date; returns the number of days recomputed."""
    entries = JournalEntry.objects.filter(business_date__lte=end)
    seals = LedgerDaySeal.objects.filter(business_date__lte=end)
    if start is not None:
        entries = entries.filter(business_date__gte=start)
        seals = seals.filter(business_date__gte=start)
    now = {
        d: (n, m)
        for d, n, m in entries.values("business_date")
        .annotate(n=Count("id"), m=Max("id"))
        .order_by()
        .values_list("business_date", "n", "m")
    }
    kept = {s.business_date: (s.entries, s.last_entry_id) for s in seals}
    stale = {d for d, v in now.items() if kept.get(d) != v} | {d for d in kept if d not in now}
    if not stale:
        return 0
    # a sealed day whose sealed entries are all still there (count of ids ≤ the sealed last id
    # unchanged) only gained entries: add their lines instead of recomputing the whole day
    grown: dict[dt.date, list[int]] = {}
    for d in sorted(stale):
        if d in kept and d in now:
            n0, m0 = kept[d]
            day_entries = JournalEntry.objects.filter(business_date=d)
            if day_entries.filter(id__lte=m0).count() == n0:
                grown[d] = list(day_entries.filter(id__gt=m0).values_list("id", flat=True))
    full = stale - grown.keys()
    stale_entries = sum(now[d][0] for d in full if d in now)
    days: list[dt.date] = []
    try:
        with transaction.atomic():
            for d, new_ids in grown.items():
                _add_entries(d, kept[d], new_ids)
            if full and stale_entries <= BY_ID_LIMIT:
                # a few days (a back-dated posting among older ones): their lines by entry id
                # (index on journalline.entry_id), not a join that scans every line
                days = sorted(full)
                totals = _totals_by_entry_ids(days)
            elif full:
                # the first build of a long range: one grouped join over the range
                days = [d for d in _date_range(min(full), max(full))]
                totals = _totals_by_join(days[0], days[-1])
            if days:
                _replace(days, totals, now)
    except IntegrityError:
        raise Busy from None
    return len(days) + len(grown)


def _replace(
    days: list[dt.date],
    totals: dict[tuple[dt.date, int], tuple[int, int]],
    now: dict[dt.date, tuple[int, int]],
) -> None:
    LedgerDayTotal.objects.filter(business_date__in=days).delete()
    LedgerDaySeal.objects.filter(business_date__in=days).delete()
    LedgerDayTotal.objects.bulk_create(
        [
            LedgerDayTotal(business_date=d, account_id=acc, debit=dr, credit=cr)
            for (d, acc), (dr, cr) in sorted(totals.items())
        ],
        batch_size=5000,
    )
    wanted = set(days)
    LedgerDaySeal.objects.bulk_create(
        [
            LedgerDaySeal(business_date=d, entries=n, last_entry_id=m)
            for d, (n, m) in sorted(now.items())
            if d in wanted
        ],
        batch_size=5000,
    )


def _add_entries(day: dt.date, seal: tuple[int, int], new_ids: list[int]) -> None:
    """Add the lines of ``new_ids`` (entries of ``day`` after its seal) to its totals."""
    add = _line_sums(new_ids)
    current = {
        t.account_id: (t.debit.fen, t.credit.fen)
        for t in LedgerDayTotal.objects.filter(business_date=day)
    }
    for acc, (d, c) in add.items():
        d0, c0 = current.get(acc, (0, 0))
        current[acc] = (d0 + d, c0 + c)
    n0, m0 = seal
    _replace(
        [day],
        {(day, acc): v for acc, v in current.items()},
        {day: (n0 + len(new_ids), max([m0, *new_ids]))},
    )


def _line_sums(entry_ids: list[int]) -> dict[int, tuple[int, int]]:
    out: dict[int, tuple[int, int]] = {}
    for start in range(0, len(entry_ids), ID_CHUNK):
        for r in (
            JournalLine.objects.filter(entry_id__in=entry_ids[start : start + ID_CHUNK])
            .values("account_id")
            .annotate(d=Sum("debit"), c=Sum("credit"))
            .order_by()
        ):
            d0, c0 = out.get(r["account_id"], (0, 0))
            out[r["account_id"]] = (d0 + fen(r["d"]), c0 + fen(r["c"]))
    return out


BY_ID_LIMIT = 200_000
ID_CHUNK = 20_000


def _date_range(lo: dt.date, hi: dt.date) -> list[dt.date]:
    return [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]


def _totals_by_entry_ids(days: list[dt.date]) -> dict[tuple[dt.date, int], tuple[int, int]]:
    out: dict[tuple[dt.date, int], tuple[int, int]] = {}
    for day in days:
        ids = list(JournalEntry.objects.filter(business_date=day).values_list("id", flat=True))
        for acc, v in _line_sums(ids).items():
            out[(day, acc)] = v
    return out


def _totals_by_join(lo: dt.date, hi: dt.date) -> dict[tuple[dt.date, int], tuple[int, int]]:
    rows = (
        JournalLine.objects.filter(entry__business_date__gte=lo, entry__business_date__lte=hi)
        .values("entry__business_date", "account_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    )
    return {(r["entry__business_date"], r["account_id"]): (fen(r["d"]), fen(r["c"])) for r in rows}
