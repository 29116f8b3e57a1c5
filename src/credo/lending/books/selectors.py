"""Reads of the books: periods, the trial balance (科目余额表), the general ledger per account
(总账 by day, 明细账 by line with a running balance) and the control-account check.

Set-based: a trial balance is one aggregate over the journal lines whose entry's business date
falls in the month (``JournalEntry.business_date`` is indexed), grouped by account. A closed
month is read from the balances its close stored (:class:`PeriodBalance`), and an open month
opens from the latest closed month's stored closing balances, so no query ever has to add up
the book's whole history once a month has been closed.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, Sum

from credo.lending.books.models import AccountingPeriod, LedgerDayTotal, PeriodBalance
from credo.lending.ledger import fen
from credo.lending.models import JournalLine, LedgerAccount, Loan

OPEN = AccountingPeriod.Status.OPEN


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def next_month(month: dt.date) -> dt.date:
    return month_end(month) + dt.timedelta(days=1)


def prev_month(month: dt.date) -> dt.date:
    return month_start(month - dt.timedelta(days=1))


def parse_month(text: str) -> dt.date:
    """``2026-11`` (or an ISO date in the month) → the month's first day."""
    text = (text or "").strip()
    try:
        if len(text) == 7:
            return dt.date(int(text[:4]), int(text[5:7]), 1)
        return month_start(dt.date.fromisoformat(text))
    except (ValueError, IndexError):
        raise ValueError(f"invalid period {text!r}: use YYYY-MM") from None


def period_get(month: dt.date) -> AccountingPeriod | None:
    return AccountingPeriod.objects.filter(month=month_start(month)).first()


def period_status(month: dt.date) -> str:
    period = period_get(month)
    return period.status if period else OPEN


@dataclass
class BalanceRow:
    account_id: int
    code: str
    name: str
    kind: str
    export_code: str
    opening: int = 0  # signed debit − credit, fen
    debit: int = 0
    credit: int = 0

    @property
    def closing(self) -> int:
        return self.opening + self.debit - self.credit

    @property
    def active(self) -> bool:
        return bool(self.opening or self.debit or self.credit)

    # the two-column layout of a Chinese 科目余额表 (期初/期末 借方 · 贷方)
    @property
    def opening_debit(self) -> int:
        return max(self.opening, 0)

    @property
    def opening_credit(self) -> int:
        return max(-self.opening, 0)

    @property
    def closing_debit(self) -> int:
        return max(self.closing, 0)

    @property
    def closing_credit(self) -> int:
        return max(-self.closing, 0)


@dataclass
class TrialBalance:
    month: dt.date
    status: str
    source: str  # "stored" (a closed month's close) or "computed"
    rows: list[BalanceRow] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(r, attr) for r in self.rows)

    @property
    def totals(self) -> dict[str, int]:
        return {
            a: self.total(a)
            for a in (
                "opening_debit",
                "opening_credit",
                "debit",
                "credit",
                "closing_debit",
                "closing_credit",
            )
        }

    @property
    def balanced(self) -> bool:
        t = self.totals
        return (
            t["opening_debit"] == t["opening_credit"]
            and t["debit"] == t["credit"]
            and t["closing_debit"] == t["closing_credit"]
        )

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")


def _accounts() -> list[LedgerAccount]:
    return list(LedgerAccount.objects.all())


def _sort_key(row: BalanceRow) -> tuple[str, str]:
    return (row.export_code or "~", row.code)


def _base(month: dt.date) -> tuple[dt.date | None, dict[int, int]]:
    """The latest closed month before ``month`` with stored balances: (the day after it, its
    closing balance per account); (None, {}) when nothing before ``month`` is closed."""
    base = (
        AccountingPeriod.objects.filter(month__lt=month)
        .exclude(status=OPEN)
        .order_by("-month")
        .first()
    )
    if base is None:
        return None, {}
    closing = dict(PeriodBalance.objects.filter(period=base).values_list("account_id", "closing"))
    return next_month(base.month), closing


def compute_balances(
    month: dt.date, *, account_ids: list[int] | None = None
) -> dict[int, tuple[int, int, int]]:
    """Per account: (opening, period debit, period credit) in fen, on top of the latest closed
    month's stored closing balances: a sum over the per-account-per-day totals
    (:mod:`credo.lending.books.daytotals`, refreshed first), or straight from the journal when
    another refresh is writing the same days."""
    from credo.lending.books import daytotals

    month = month_start(month)
    end = month_end(month)
    start, opening = _base(month)
    try:
        daytotals.refresh(start, end)
    except daytotals.Busy:
        return journal_balances(month, account_ids=account_ids)
    days = LedgerDayTotal.objects.filter(business_date__lte=end)
    if start is not None:
        days = days.filter(business_date__gte=start)
    if account_ids is not None:
        days = days.filter(account_id__in=account_ids)
    return _combine(days, month, opening, account_ids, date_field="business_date")


def journal_balances(
    month: dt.date, *, account_ids: list[int] | None = None
) -> dict[int, tuple[int, int, int]]:
    """The same figures aggregated from the journal lines themselves (one grouped query)."""
    month = month_start(month)
    end = month_end(month)
    start, opening = _base(month)
    lines = JournalLine.objects.filter(entry__business_date__lte=end)
    if start is not None:
        lines = lines.filter(entry__business_date__gte=start)
    if account_ids is not None:
        lines = lines.filter(account_id__in=account_ids)
    return _combine(lines, month, opening, account_ids, date_field="entry__business_date")


def _combine(
    qs: Any,
    month: dt.date,
    opening: dict[int, int],
    account_ids: list[int] | None,
    *,
    date_field: str,
) -> dict[int, tuple[int, int, int]]:
    in_month = Q(**{f"{date_field}__gte": month})
    before = Q(**{f"{date_field}__lt": month})
    agg = (
        qs.values("account_id")
        .annotate(
            pd=Sum("debit", filter=in_month),
            pc=Sum("credit", filter=in_month),
            bd=Sum("debit", filter=before),
            bc=Sum("credit", filter=before),
        )
        .order_by()
    )
    out: dict[int, tuple[int, int, int]] = {
        acc: (bal, 0, 0)
        for acc, bal in opening.items()
        if account_ids is None or acc in account_ids
    }
    for row in agg:
        acc = row["account_id"]
        base = out.get(acc, (0, 0, 0))[0]
        out[acc] = (base + fen(row["bd"]) - fen(row["bc"]), fen(row["pd"]), fen(row["pc"]))
    return out


def trial_balance(month: dt.date, *, include_inactive: bool = True) -> TrialBalance:
    """科目余额表 of ``month``: opening, period debit and credit, closing per account."""
    month = month_start(month)
    period = period_get(month)
    status = period.status if period else OPEN
    accounts = {a.pk: a for a in _accounts()}
    figures: dict[int, tuple[int, int, int]]
    if period is not None and status != OPEN and period.balances.exists():
        source = "stored"
        figures = {
            b.account_id: (b.opening, b.debit.fen, b.credit.fen) for b in period.balances.all()
        }
    else:
        source = "computed"
        figures = compute_balances(month)
    tb = TrialBalance(month=month, status=status, source=source)
    for acc_id, acc in accounts.items():
        opening, debit, credit = figures.get(acc_id, (0, 0, 0))
        row = BalanceRow(
            account_id=acc_id,
            code=acc.code,
            name=acc.name,
            kind=acc.kind,
            export_code=acc.export_code,
            opening=opening,
            debit=debit,
            credit=credit,
        )
        if include_inactive or row.active:
            tb.rows.append(row)
    tb.rows.sort(key=_sort_key)
    return tb


# ---------------------------------------------------------------- 总账 / 明细账


def account_opening(account: LedgerAccount, month: dt.date, *, loan: Loan | None = None) -> int:
    """Balance of ``account`` (optionally of one loan's sub-ledger) before ``month``."""
    month = month_start(month)
    if loan is not None:
        agg = JournalLine.objects.filter(
            loan=loan, account=account, entry__business_date__lt=month
        ).aggregate(d=Sum("debit"), c=Sum("credit"))
        return fen(agg["d"]) - fen(agg["c"])
    period = period_get(month)
    if period is not None and period.status != OPEN:
        stored = period.balances.filter(account=account).values_list("opening", flat=True).first()
        if stored is not None:
            return int(stored)
    return compute_balances(month, account_ids=[account.pk]).get(account.pk, (0, 0, 0))[0]


@dataclass
class LedgerDay:
    date: dt.date
    debit: int
    credit: int
    balance: int


def ledger_days(account: LedgerAccount, month: dt.date) -> tuple[int, list[LedgerDay]]:
    """总账: the opening balance and one row per business day with postings (debit, credit,
    balance after the day)."""
    from credo.lending.books import daytotals

    month = month_start(month)
    opening = account_opening(account, month)
    try:
        daytotals.refresh(month, month_end(month))
        rows: list[dict[str, Any]] = [
            {"entry__business_date": t.business_date, "d": t.debit, "c": t.credit}
            for t in LedgerDayTotal.objects.filter(
                account=account, business_date__gte=month, business_date__lte=month_end(month)
            ).order_by("business_date")
        ]
    except daytotals.Busy:
        rows = [
            dict(r)
            for r in JournalLine.objects.filter(
                account=account,
                entry__business_date__gte=month,
                entry__business_date__lte=month_end(month),
            )
            .values("entry__business_date")
            .annotate(d=Sum("debit"), c=Sum("credit"))
            .order_by("entry__business_date")
        ]
    out = []
    balance = opening
    for r in rows:
        d, c = fen(r["d"]), fen(r["c"])
        balance += d - c
        out.append(LedgerDay(r["entry__business_date"], d, c, balance))
    return opening, out


@dataclass
class LedgerLine:
    line_id: int
    date: dt.date
    entry_id: int
    kind: str
    memo: str
    loan_id: int | None
    loan_number: str
    debit: int
    credit: int
    balance: int


def _month_lines(account: LedgerAccount, month: dt.date, loan: Loan | None):
    qs = JournalLine.objects.filter(
        account=account,
        entry__business_date__gte=month,
        entry__business_date__lte=month_end(month),
    )
    if loan is not None:
        qs = qs.filter(loan=loan)
    return qs


def ledger_lines(
    account: LedgerAccount,
    month: dt.date,
    *,
    loan: Loan | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[int, int, list[LedgerLine]]:
    """明细账 (分户账 with ``loan``): (opening, number of lines, the lines from ``offset`` with
    the running balance after each)."""
    month = month_start(month)
    opening = account_opening(account, month, loan=loan)
    qs = _month_lines(account, month, loan)
    total = qs.count()
    page = list(
        qs.select_related("entry", "loan").order_by("entry__business_date", "entry_id", "id")[
            offset : offset + limit
        ]
    )
    balance = opening
    if page and offset:
        first = page[0]
        d, e, i = first.entry.business_date, first.entry_id, first.pk
        earlier = qs.filter(
            Q(entry__business_date__lt=d)
            | Q(entry__business_date=d, entry_id__lt=e)
            | Q(entry__business_date=d, entry_id=e, id__lt=i)
        ).aggregate(d=Sum("debit"), c=Sum("credit"))
        balance += fen(earlier["d"]) - fen(earlier["c"])
    out = []
    for line in page:
        balance += line.debit.fen - line.credit.fen
        out.append(
            LedgerLine(
                line_id=line.pk,
                date=line.entry.business_date,
                entry_id=line.entry_id,
                kind=line.entry.get_kind_display(),
                memo=line.entry.memo,
                loan_id=line.loan_id,
                loan_number=line.loan.number if line.loan_id else "",
                debit=line.debit.fen,
                credit=line.credit.fen,
                balance=balance,
            )
        )
    return opening, total, out


# ---------------------------------------------------------------- control accounts


@dataclass
class ControlCheck:
    account: str
    control: int
    subledger: int

    @property
    def ok(self) -> bool:
        return self.control == self.subledger


def control_checks(tb: TrialBalance | None = None) -> list[ControlCheck]:
    """控制账户 = 分户账 today: the 贷款本金 control account equals the loans' outstanding
    principal, the 客户溢缴款 liability equals the loans' credit balances. The control balances
    are the closing balances of the current month's trial balance (nothing is dated after
    today), the loans' figures one aggregate over the loans."""
    from credo.core import clock

    current = month_start(clock.today())
    if tb is None or tb.month != current:
        tb = trial_balance(current)
    closing = {r.code: r.closing for r in tb.rows}
    loans = Loan.objects.exclude(status=Loan.Status.PENDING).aggregate(
        p=Sum("outstanding_principal"), c=Sum("credit_balance")
    )
    return [
        ControlCheck("loan_principal", closing.get("loan_principal", 0), fen(loans["p"])),
        ControlCheck("customer_credit", -closing.get("customer_credit", 0), fen(loans["c"])),
    ]


def periods(limit: int = 24) -> list[AccountingPeriod]:
    return list(
        AccountingPeriod.objects.select_related(
            "closed_by", "reopen_requested_by", "reopen_approved_by"
        ).order_by("-month")[:limit]
    )


def first_posting_month() -> dt.date | None:
    from django.db.models import Min

    from credo.lending.models import JournalEntry

    first = JournalEntry.objects.aggregate(m=Min("business_date"))["m"]
    return month_start(first) if first else None
