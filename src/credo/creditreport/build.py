"""Build a month's credit-reporting records from the book, set-based and chunked.

For a month (its last day ``E``) and a set of loans, a handful of queries per chunk of loans
load what :mod:`credo.creditreport.compute` needs — the loans, their installments, partial
payments (only for loans with an installment part-paid and not settled at ``E``), 五级分类
history, write-offs, executed restructurings, guarantees and collateral, the borrowers'
identities and the loan principal sub-ledger at ``E`` — then each record is a pure function of
those facts. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import ExtractMonth, ExtractYear

from credo.creditreport import compute
from credo.creditreport.compute import Inst, LoanFacts
from credo.customers.models import Customer
from credo.lending.models import (
    Installment,
    JournalLine,
    LoanClassHistory,
    OffBalance,
    Posting,
    Restructuring,
)
from credo.lending.models import Loan as LoanModel

CHUNK = 5000

# 还款方式 → (reference method code, 还款频率)
FREQUENCY = {
    "equal_installment": "monthly",
    "equal_principal": "monthly",
    "interest_only": "monthly",
    "bullet": "once",
    "interest_quarterly": "quarterly",
    "equal_installment_quarterly": "quarterly",
}
ID_CARD = "id_card"  # 居民身份证
USCC = "uscc"  # 统一社会信用代码


@dataclass
class Built:
    """The records of a month for the loans asked for (unsaved field dicts, loan id order)."""

    month: dt.date
    rows: list[dict[str, Any]]
    loans_seen: int = 0


def candidate_loans(idx: int, loan_ids: Iterable[int] | None = None) -> Any:
    """Loans that may be reported for month ``idx``: opened by its last day, not pending, not
    written off or settled before its first day (settled: a 已结清 loan with no installment
    settled on or after the first day)."""
    first, last = compute.month_first(idx), compute.month_last(idx)
    qs = LoanModel.objects.filter(start_date__lte=last).exclude(status=LoanModel.Status.PENDING)
    qs = qs.exclude(status=LoanModel.Status.WRITTEN_OFF, off_balance__written_off_on__lt=first)
    settled_late = Installment.objects.filter(loan=OuterRef("pk"), paid_on__gte=first)
    qs = qs.exclude(Q(status=LoanModel.Status.PAID_OFF) & ~Exists(settled_late))
    if loan_ids is not None:
        qs = qs.filter(pk__in=list(loan_ids))
    return qs


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def guarantee_types(where: dict[str, Any]) -> dict[int, str]:
    """担保方式 per loan from its collateral links (抵押/质押) and guarantees (保证): one kind
    as is, several as 组合; none is 信用."""
    from credo.collateral.models import CollateralLink, Guarantee

    kinds: dict[int, set[str]] = defaultdict(set)
    for lid, kind in CollateralLink.objects.filter(**where).values_list(
        "loan_id", "collateral__kind"
    ):
        kinds[lid].add(kind)
    for lid in (
        Guarantee.objects.filter(**where)
        .exclude(status=Guarantee.Status.DRAFT)
        .values_list("loan_id", flat=True)
    ):
        kinds[lid].add("guarantee")
    return {lid: (next(iter(k)) if len(k) == 1 else "combined") for lid, k in kinds.items()}


def ledger_balances(where: dict[str, Any], last: dt.date) -> dict[int, int]:
    """Each loan's 贷款本金 sub-ledger (debit − credit) at ``last``, in fen."""
    from credo.lending.ledger import account_id

    rows = (
        JournalLine.objects.filter(
            **where,
            account_id=account_id("loan_principal"),
            entry__business_date__lte=last,
        )
        .values("loan_id")
        .annotate(b=Sum(F("debit") - F("credit"), output_field=BigIntegerField()))
        .values_list("loan_id", "b")
    )
    return {lid: int(b or 0) for lid, b in _raw(rows)}


def _partials(loan_ids: list[int], last: dt.date) -> dict[int, dict[int, list[int]]]:
    """Paid by ``last`` per (loan, period): principal, interest, fee — from the allocations of
    the postings received on or before ``last`` (reversed postings never count)."""
    out: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for lid, allocation in Posting.objects.filter(
        loan_id__in=loan_ids, reversed_at__isnull=True, received_on__lte=last
    ).values_list("loan_id", "allocation"):
        for part in (allocation or {}).get("installments", []):
            period = part.get("period")
            if period is None:
                continue
            acc = out[lid][period]
            acc[0] += int(part.get("principal", 0) or 0)
            acc[1] += int(part.get("interest", 0) or 0)
            acc[2] += int(part.get("fee", 0) or 0)
    return out


def _raw(qs: Any) -> list[tuple[Any, ...]]:
    """The rows of a ``values_list`` queryset without Django's per-value converters (a book's
    installments are millions of integers: Money objects for each would dominate the time).
    Dates come back as ``date`` on PostgreSQL and as ISO text on SQLite (see :func:`_day`)."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


@dataclass
class Summary:
    """A loan's installments summed in SQL for one month end."""

    sums: compute.MonthSums
    partial: bool
    max_paid_on: dt.date | None
    due_min: int | None  # month indexes with something due in the 24-month window
    due_max: int | None
    due_months: int

    @property
    def contiguous(self) -> bool:
        if self.due_min is None or self.due_max is None:
            return True
        return self.due_months == self.due_max - self.due_min + 1

    def due_flags(self, end_idx: int) -> list[bool]:
        lo = end_idx - compute.HISTORY_MONTHS + 1
        if self.due_min is None or self.due_max is None:
            return [False] * compute.HISTORY_MONTHS
        return [self.due_min <= m <= self.due_max for m in range(lo, end_idx + 1)]


def _month_of(field: str) -> Any:
    return ExpressionWrapper(
        ExtractYear(field) * 12 + ExtractMonth(field) - 1, output_field=IntegerField()
    )


def _fen_sum(expr: Any, condition: Q) -> Any:
    return Sum(ExpressionWrapper(expr, output_field=BigIntegerField()), filter=condition)


def _installment_summary(
    where: dict[str, Any], idx: int, first: dt.date, last: dt.date
) -> dict[int, Summary]:
    """One GROUP BY over the chunk's installments: the month's sums of
    :func:`credo.creditreport.compute.month_sums` (exact where no installment is part-paid and
    unsettled at the month end — those loans take the exact path) and the window's due months."""
    win_first = compute.month_first(idx - compute.HISTORY_MONTHS + 1)
    unsettled = Q(paid_on__isnull=True) | Q(paid_on__gt=last)
    overdue = Q(due_date__lte=last) & unsettled
    owed = F("principal_due") + F("interest_due") + F("fee_due")
    part_paid = Q(principal_paid__gt=0) | Q(interest_paid__gt=0) | Q(fee_paid__gt=0)
    window = Q(due_date__gte=win_first, due_date__lte=last)
    qs = (
        Installment.objects.filter(**where)
        .alias(due_m=_month_of("due_date"))
        .order_by()
        .values("loan_id")
        .annotate(
            repaid=_fen_sum(F("principal_paid"), Q(paid_on__lte=last)),
            od_n=Count("id", filter=overdue),
            od_p=_fen_sum(F("principal_due"), overdue),
            od_a=_fen_sum(owed, overdue),
            od_min=Min("due_date", filter=overdue),
            due=_fen_sum(owed, Q(due_date__gte=first, due_date__lte=last)),
            # money reaches an installment only once it is due (the rest is held as 溢缴款
            # and applied on the due date; a prepayment settles its own row), so only an
            # installment due by the month end can have been part-paid by then
            partial=Count("id", filter=overdue & part_paid),
            max_paid=Max("paid_on"),
            dmin=Min("due_m", filter=window),
            dmax=Max("due_m", filter=window),
            dn=Count("due_m", filter=window, distinct=True),
        )
        .values_list(
            "loan_id",
            "repaid",
            "od_n",
            "od_p",
            "od_a",
            "od_min",
            "due",
            "partial",
            "max_paid",
            "dmin",
            "dmax",
            "dn",
        )
    )
    out: dict[int, Summary] = {}
    for lid, repaid, n, op, oa, omin, due, partial, mp, dmin, dmax, dn in _raw(qs):
        out[lid] = Summary(
            sums=compute.MonthSums(
                int(repaid or 0), int(n or 0), int(op or 0), int(oa or 0), _day(omin), int(due or 0)
            ),
            partial=bool(partial),
            max_paid_on=_day(mp),
            due_min=None if dmin is None else int(dmin),
            due_max=None if dmax is None else int(dmax),
            due_months=int(dn or 0),
        )
    return out


def _late(
    where: dict[str, Any], idx: int, last: dt.date
) -> dict[int, list[tuple[int, int | None]]]:
    """(due month, settled month or None) of the installments settled after their due month —
    the only ones overdue at some month end — that reach into the 24-month window."""
    win_first = compute.month_first(idx - compute.HISTORY_MONTHS + 1)
    qs = (
        Installment.objects.filter(**where, due_date__lte=last)
        .alias(due_m=_month_of("due_date"), paid_m=_month_of("paid_on"))
        .filter(Q(paid_on__isnull=True) | (Q(paid_m__gt=F("due_m")) & Q(paid_on__gte=win_first)))
        .order_by()
        .values_list("loan_id", "due_date", "paid_on")
    )
    out: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for lid, due, paid in _raw(qs):
        due, paid = _day(due), _day(paid)
        out[lid].append(
            (compute.month_index(due), None if paid is None else compute.month_index(paid))  # type: ignore[arg-type]
        )
    return out


def _installments(loan_ids: list[int]) -> dict[int, list[Inst]]:
    insts: dict[int, list[Inst]] = defaultdict(list)
    for lid, *r in _raw(
        Installment.objects.filter(loan_id__in=loan_ids)
        .order_by()
        .values_list(
            "loan_id",
            "period",
            "due_date",
            "principal_due",
            "interest_due",
            "fee_due",
            "principal_paid",
            "interest_paid",
            "fee_paid",
            "paid_on",
        )
    ):
        insts[lid].append(
            Inst(r[0], _day(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], _day(r[8]))  # type: ignore[arg-type]
        )
    return insts


def build_month(
    month: dt.date,
    loan_ids: Iterable[int] | None = None,
    *,
    chunk: int = CHUNK,
    exact: bool = False,
) -> Built:
    """The records of ``month`` for every reportable loan (or only ``loan_ids``). ``exact``
    computes every loan from its installment rows (the reference the set-based sums are
    tested against)."""
    idx = compute.month_index(month)
    first, last = compute.month_first(idx), compute.month_last(idx)
    wanted = None if loan_ids is None else list(loan_ids)
    ids = list(candidate_loans(idx, wanted).order_by("pk").values_list("pk", flat=True))
    built = Built(month=first, rows=[])
    for part in _chunks(ids, chunk):
        built.rows.extend(
            _build_chunk(part, idx, first, last, by_range=wanted is None, exact=exact)
        )
        built.loans_seen += len(part)
    return built


def _build_chunk(
    ids: list[int],
    idx: int,
    first: dt.date,
    last: dt.date,
    *,
    by_range: bool,
    exact: bool = False,
) -> list[dict[str, Any]]:
    # a whole book: one id range per chunk (rows of loans not reported are skipped below);
    # a few loans (corrections): their ids
    where: dict[str, Any] = (
        {"loan_id__gte": ids[0], "loan_id__lte": ids[-1]} if by_range else {"loan_id__in": ids}
    )
    wanted = set(ids)
    loans = [
        row
        for row in _raw(
            LoanModel.objects.filter(**{k.replace("loan_id", "pk"): v for k, v in where.items()})
            .order_by("pk")
            .values_list(
                "pk",
                "number",
                "customer_id",
                "principal",
                "method",
                "start_date",
                "maturity_date",
                "status",
                "classification",
            )
        )
        if row[0] in wanted
    ]
    summary = _installment_summary(where, idx, first, last)
    # the exact per-installment path for the loans the sums cannot describe: a part-paid
    # installment not settled at the month end (its postings say how much was paid by then),
    # or months with something due that are not one contiguous run (quarterly schedules)
    exact_ids = [
        lid
        for lid, agg in summary.items()
        if lid in wanted and (exact or agg.partial or not agg.contiguous)
    ]
    insts = _installments(exact_ids) if exact_ids else {}
    partials = _partials(exact_ids, last) if exact_ids else {}
    late = _late(where, idx, last) if len(exact_ids) < len(summary) else {}
    classes: dict[int, str] = {}
    has_history: set[int] = set()
    for lid, day, to_class in _raw(
        LoanClassHistory.objects.filter(**where)
        .order_by("loan_id", "date", "id")
        .values_list("loan_id", "date", "to_class")
    ):
        has_history.add(lid)
        if _day(day) <= last:  # type: ignore[operator]
            classes[lid] = to_class
    write_offs = {
        lid: _day(day)
        for lid, day in _raw(
            OffBalance.objects.filter(**where).values_list("loan_id", "written_off_on")
        )
    }
    restructurings: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for lid, day, kind in _raw(
        Restructuring.objects.filter(
            **where, status=Restructuring.Status.EXECUTED, executed_on__isnull=False
        ).values_list("loan_id", "executed_on", "kind")
    ):
        restructurings[lid].append((_day(day), kind))  # type: ignore[arg-type]
    guarantees = guarantee_types(where)
    ledger = ledger_balances(where, last)
    customer_ids = {row[2] for row in loans}
    people = {
        cid: (kind, name, uscc, id_number)
        for cid, kind, name, uscc, id_number in Customer.objects.filter(
            pk__in=customer_ids
        ).values_list("pk", "kind", "name", "uscc", "id_number")
    }
    rows: list[dict[str, Any]] = []
    for lid, number, cid, principal, method, start, maturity, status, current_class in loans:
        start, maturity = _day(start) or first, _day(maturity)
        agg = summary.get(lid)
        its = insts.get(lid, [])
        settled_on = None
        if status == LoanModel.Status.PAID_OFF:
            settled_on = (agg.max_paid_on if agg else None) or start
        p = partials.get(lid)
        facts = LoanFacts(
            principal=int(principal),
            start_date=start,
            maturity_date=maturity,
            installments=its,
            partial={k: (v[0], v[1], v[2]) for k, v in p.items()} if p else {},
            settled_on=settled_on,
            written_off_on=write_offs.get(lid),
            restructurings=restructurings.get(lid, ()),
        )
        if not compute.is_reported(facts, idx):
            continue
        if agg is None or lid in insts:
            figures = compute.account_figures(facts, idx)
        else:
            history = compute.history_chars(
                facts, idx, compute.HISTORY_MONTHS, late.get(lid, ()), agg.due_flags(idx)
            )
            figures = compute.figures_from(facts, idx, agg.sums, history)
        kind, name, uscc, id_number = people.get(cid, ("", "", "", ""))
        if kind == Customer.Kind.ENTERPRISE:
            id_type, id_value = USCC, (uscc or "").strip().upper()
        else:
            id_type, id_value = ID_CARD, (id_number or "").strip().upper()
        if lid in has_history:
            five_class = classes.get(lid, LoanModel.Classification.NORMAL)
        else:  # no history rows (imported book): the loan's class is the only record
            five_class = current_class
        row = {
            "loan_id": lid,
            "customer_id": cid,
            "month": first,
            "borrower_name": name,
            "id_type": id_type,
            "id_number": id_value,
            "account_number": number,
            "open_date": start,
            "maturity_date": maturity,
            "amount": int(principal),
            "currency": "CNY",
            "repayment_method": method,
            "repayment_frequency": FREQUENCY.get(method, "monthly"),
            "guarantee_type": guarantees.get(lid, "credit"),
            "five_class": five_class,
            "ledger_balance": ledger.get(lid, 0),
            **figures,
        }
        row["fingerprint"] = compute.fingerprint(row)
        rows.append(row)
    return rows
