"""The credit-reporting record of one loan account for one month (征信报送), framework-free.

Everything here is a pure function of a loan's facts (:class:`LoanFacts`: terms, installments
with their due dates and the day each was settled, partial payments, the settlement /
write-off / restructuring dates) evaluated at a month end, so a month can be regenerated at
any time with the same result (and, after a back-dated replay changed the facts, with the
corrected result — :mod:`credo.creditreport.services` compares the two).

The 24-month repayment status string (还款状态) has one character per month, the oldest on the
left and the reported month on the right:

* ``/`` the account was not open yet (before the month of the value date);
* ``*`` nothing fell due in the month and nothing is overdue at its end;
* ``N`` something fell due in the month and nothing is overdue at its end (paid on time, or
  paid late but before the month end);
* ``1``–``7`` the number of installments overdue at the month end (7 = seven or more);
* ``D`` a guarantor paid for the borrower in the month (代偿);
* ``C`` settled (结清) in or before the month;
* ``G`` written off (核销) in or before the month — the terminal state that wins over ``C``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

HISTORY_MONTHS = 24
STATUS_CHARS = frozenset("/*NCGD1234567")


# --- months ----------------------------------------------------------------------------------
def month_index(day: dt.date) -> int:
    """A month as one integer (year × 12 + month − 1): consecutive months are consecutive."""
    return day.year * 12 + day.month - 1


def month_first(idx: int) -> dt.date:
    return dt.date(idx // 12, idx % 12 + 1, 1)


def month_last(idx: int) -> dt.date:
    return month_first(idx + 1) - dt.timedelta(days=1)


# --- facts -----------------------------------------------------------------------------------
class Inst(NamedTuple):
    """One installment: what fell due, what is paid now, and the day it was settled (None: not
    settled). An installment settled on or before a month end counts as paid in full then.
    (A tuple: a book's worth of them is built per month.)"""

    period: int
    due_date: dt.date
    principal_due: int
    interest_due: int = 0
    fee_due: int = 0
    principal_paid: int = 0
    interest_paid: int = 0
    fee_paid: int = 0
    paid_on: dt.date | None = None

    def settled_by(self, day: dt.date) -> bool:
        return self.paid_on is not None and self.paid_on <= day

    @property
    def any_paid(self) -> bool:
        return bool(self.principal_paid or self.interest_paid or self.fee_paid)


@dataclass(frozen=True)
class LoanFacts:
    principal: int
    start_date: dt.date
    maturity_date: dt.date | None
    installments: Sequence[Inst]
    # paid by the month end on installments not settled by then: period → (principal, interest,
    # fee); from the postings received on or before the month end (see services)
    partial: Mapping[int, tuple[int, int, int]] = field(default_factory=dict)
    settled_on: dt.date | None = None
    written_off_on: dt.date | None = None
    restructurings: Sequence[tuple[dt.date, str]] = ()  # (executed on, kind)
    guarantor_paid: frozenset[int] = frozenset()  # month indexes with a 代偿 payment


# --- status string ---------------------------------------------------------------------------
def status_history(facts: LoanFacts, end_idx: int, months: int = HISTORY_MONTHS) -> str:
    """The repayment status characters of the ``months`` months ending with ``end_idx``.

    An installment is overdue at a month end when it fell due on or before that day and was not
    settled by then: for month index ``m`` that is ``idx(due) ≤ m < idx(paid_on)`` — a range,
    added with a difference array, so the whole string costs one pass over the installments."""
    lo = end_idx - months + 1
    late = []
    due = [False] * months
    for inst in facts.installments:
        di = month_index(inst.due_date)
        if lo <= di <= end_idx:
            due[di - lo] = True
        late.append((di, None if inst.paid_on is None else month_index(inst.paid_on)))
    return history_chars(facts, end_idx, months, late, due)


def history_chars(
    facts: LoanFacts,
    end_idx: int,
    months: int,
    late: Iterable[tuple[int, int | None]],
    due: Sequence[bool],
) -> str:
    """The characters from the installments' (due month, settled month or None) pairs — only
    those settled after their due month matter — and the months something fell due. Shared by
    the per-loan path and the set-based one of :mod:`credo.creditreport.build`."""
    lo = end_idx - months + 1
    over = [0] * (months + 1)
    for di, pi in late:
        start = max(di, lo)
        stop = end_idx + 1 if pi is None else min(pi, end_idx + 1)
        if start < stop:
            over[start - lo] += 1
            over[stop - lo] -= 1
    open_idx = month_index(facts.start_date)
    settled_idx = month_index(facts.settled_on) if facts.settled_on else None
    wo_idx = month_index(facts.written_off_on) if facts.written_off_on else None
    out: list[str] = []
    running = 0
    for k in range(months):
        running += over[k]
        m = lo + k
        if m < open_idx:
            out.append("/")
        elif wo_idx is not None and m >= wo_idx:
            out.append("G")
        elif settled_idx is not None and m >= settled_idx:
            out.append("C")
        elif m in facts.guarantor_paid:
            out.append("D")
        elif running > 0:
            out.append(str(min(running, 7)))
        elif due[k]:
            out.append("N")
        else:
            out.append("*")
    return "".join(out)


def month_status(facts: LoanFacts, idx: int) -> str:
    """The status character of one month (the last character of :func:`status_history`)."""
    return status_history(facts, idx, months=1)


# --- the record ------------------------------------------------------------------------------
ACCOUNT_OPEN = "open"  # 正常
ACCOUNT_OVERDUE = "overdue"  # 逾期
ACCOUNT_SETTLED = "settled"  # 结清
ACCOUNT_WRITTEN_OFF = "written_off"  # 核销（呆账）

EVENT_RESTRUCTURE = {
    "extension": "extension",
    "restructure": "restructure",
    "refinance": "refinance",
}
EVENT_WRITE_OFF = "write_off"
EVENT_EARLY_SETTLEMENT = "early_settlement"


def is_reported(facts: LoanFacts, idx: int) -> bool:
    """Reported for month ``idx``: open at any point of the month — opened on or before its last
    day and neither settled nor written off before its first day."""
    first, last = month_first(idx), month_last(idx)
    if facts.start_date > last:
        return False
    if facts.written_off_on is not None and facts.written_off_on < first:
        return False
    return not (facts.settled_on is not None and facts.settled_on < first)


@dataclass(frozen=True)
class MonthSums:
    """Sums over a loan's installments at a month end (amounts in fen)."""

    repaid: int  # principal repaid by the month end
    overdue_periods: int
    overdue_principal: int
    overdue_amount: int  # principal + interest + fees still owed on the overdue installments
    oldest_overdue: dt.date | None
    due_in_month: int


def month_sums(facts: LoanFacts, idx: int) -> MonthSums:
    last = month_last(idx)
    first = month_first(idx)
    repaid = 0
    overdue_periods = overdue_amount = overdue_principal = due_in_month = 0
    oldest_overdue: dt.date | None = None
    for inst in facts.installments:
        if first <= inst.due_date <= last:
            due_in_month += inst.principal_due + inst.interest_due + inst.fee_due
        if inst.settled_by(last):
            repaid += inst.principal_paid
            continue
        p, i, f = facts.partial.get(inst.period, (0, 0, 0))
        repaid += p
        if inst.due_date <= last:
            overdue_periods += 1
            overdue_principal += inst.principal_due - p
            overdue_amount += inst.principal_due + inst.interest_due + inst.fee_due - p - i - f
            if oldest_overdue is None or inst.due_date < oldest_overdue:
                oldest_overdue = inst.due_date
    return MonthSums(
        repaid, overdue_periods, overdue_principal, overdue_amount, oldest_overdue, due_in_month
    )


def account_figures(facts: LoanFacts, idx: int) -> dict[str, Any]:
    """The month-end figures of the account (amounts in fen)."""
    return figures_from(facts, idx, month_sums(facts, idx), status_history(facts, idx))


def figures_from(facts: LoanFacts, idx: int, sums: MonthSums, history: str) -> dict[str, Any]:
    """The record's figures from the month's sums and status string (both paths share it)."""
    last = month_last(idx)
    first = month_first(idx)
    written_off = facts.written_off_on is not None and facts.written_off_on <= last
    settled = not written_off and facts.settled_on is not None and facts.settled_on <= last
    balance = max(facts.principal - sums.repaid, 0)
    overdue_periods, oldest_overdue = sums.overdue_periods, sums.oldest_overdue
    overdue_amount, overdue_principal = sums.overdue_amount, sums.overdue_principal
    if written_off or settled:
        status = ACCOUNT_WRITTEN_OFF if written_off else ACCOUNT_SETTLED
        balance = overdue_periods = overdue_amount = overdue_principal = 0
        oldest_overdue = None
    else:
        status = ACCOUNT_OVERDUE if overdue_periods else ACCOUNT_OPEN
    events: list[dict[str, Any]] = []
    for day, kind in sorted(facts.restructurings):
        if first <= day <= last:
            events.append({"kind": EVENT_RESTRUCTURE.get(kind, "restructure"), "date": day})
    if facts.written_off_on is not None and first <= facts.written_off_on <= last:
        events.append({"kind": EVENT_WRITE_OFF, "date": facts.written_off_on})
    if (
        facts.settled_on is not None
        and first <= facts.settled_on <= last
        and not written_off
        and facts.maturity_date is not None
        and facts.settled_on < facts.maturity_date
    ):
        events.append({"kind": EVENT_EARLY_SETTLEMENT, "date": facts.settled_on})
    return {
        "balance": balance,
        "overdue_periods": overdue_periods,
        "overdue_amount": max(overdue_amount, 0),
        "overdue_principal": max(overdue_principal, 0),
        "overdue_days": (last - oldest_overdue).days if oldest_overdue else 0,
        "due_in_month": sums.due_in_month,
        "account_status": status,
        "closed_on": facts.written_off_on if written_off else facts.settled_on if settled else None,
        "events": [{"kind": e["kind"], "date": e["date"].isoformat()} for e in events],
        "status_string": history,
    }


# the reported content a correction compares (identity, terms and month-end figures)
FINGERPRINT_FIELDS = (
    "borrower_name",
    "id_type",
    "id_number",
    "account_number",
    "open_date",
    "maturity_date",
    "amount",
    "currency",
    "repayment_method",
    "repayment_frequency",
    "guarantee_type",
    "balance",
    "five_class",
    "overdue_periods",
    "overdue_amount",
    "overdue_principal",
    "due_in_month",
    "status_string",
    "account_status",
    "closed_on",
    "events",
)


MONEY_FIELDS = frozenset(
    {"amount", "balance", "overdue_amount", "overdue_principal", "due_in_month"}
)


def _plain(key: str, value: Any) -> Any:
    """One reported value in a form equal for a fresh row and a stored record: fen for money,
    events with sorted keys (PostgreSQL's jsonb does not keep key order)."""
    if key in MONEY_FIELDS:
        return getattr(value, "fen", value)
    if key == "events":
        return tuple(tuple(sorted(e.items())) for e in value or ())
    return value


_MONEY_AT = tuple(i for i, k in enumerate(FINGERPRINT_FIELDS) if k in MONEY_FIELDS)
_EVENTS_AT = FINGERPRINT_FIELDS.index("events")


def fingerprint(values: Mapping[str, Any]) -> str:
    """A digest of the reported content: equal digests ⇔ nothing to correct (the values as
    :func:`_plain` normalises them; written out for speed — it runs once per record)."""
    vals = [values.get(k) for k in FINGERPRINT_FIELDS]
    for i in _MONEY_AT:
        v = vals[i]
        if v is not None and not isinstance(v, int):
            vals[i] = v.fen
    if vals[_EVENTS_AT]:
        vals[_EVENTS_AT] = _plain("events", vals[_EVENTS_AT])
    else:
        vals[_EVENTS_AT] = ()
    return hashlib.sha256(repr(tuple(vals)).encode()).hexdigest()


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return [k for k in FINGERPRINT_FIELDS if _plain(k, old.get(k)) != _plain(k, new.get(k))]


def valid_status_string(text: str, months: int = HISTORY_MONTHS) -> bool:
    return len(text) == months and set(text) <= STATUS_CHARS


def iter_months(first: dt.date, last: dt.date) -> Iterable[int]:
    return range(month_index(first), month_index(last) + 1)
