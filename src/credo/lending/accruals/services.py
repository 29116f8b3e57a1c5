"""Accrual accounting (权责发生制): the daily accrual of the close of business, non-accrual
(非应计), receipts settling the receivable, replay corrections and the posting job.

Entries (see docs/accounting.md):

* daily, per product (one entry per product per business date, after the close):
  Dr 应收利息 / Cr 利息收入 and Dr 应收罚息 / Cr 罚息收入 — the sum of the loans' day amounts;
* a receipt of interest / 罚息 (repayment, 溢缴款冲抵, prepayment, import): Cr 应收利息 for the
  accrued part, Cr 利息收入 for the part not yet accrued (:func:`split_entry_lines`, called by
  :func:`credo.lending.ledger.post_entry` for every loan entry);
* 转非应计 (DPD > threshold, default 90): Dr 利息收入 / Cr 应收利息 for the accrued-unpaid
  interest (and the same for 罚息), moved to 表外应收利息; while non-accrual the day's interest is
  only added to 表外; interest received is income when received and reduces 表外 first;
* back to accrual when the loan is current again (DPD 0): accrual restarts the next close;
  what is in 表外 stays there until received;
* a replay (倒起息, 冲正, 减免) recomputes the receivable the loan's replayed installments
  imply and posts the difference dated today (kind 利息计提, loan entry).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.lending.accruals import calc
from credo.lending.accruals.models import (
    NON_ACCRUAL_DPD_DEFAULT,
    AccrualBatch,
    BookSettings,
    LoanAccrual,
)

COMPONENTS = (
    # (component, income account, receivable account)
    ("interest", "interest_income", "interest_receivable"),
    ("penalty", "penalty_income", "penalty_receivable"),
)
RECEIVABLES = ("interest_receivable", "penalty_receivable")
OWN_KINDS = ("accrual", "non_accrual")  # entries of this module: receivable lines explicit


def _fen(value: Any) -> int:
    return int(getattr(value, "fen", value) or 0)


# ---------------------------------------------------------------------------------------------
# the book's basis
# ---------------------------------------------------------------------------------------------


def book_settings() -> BookSettings:
    """The book's settings row, or the defaults of a new book (accrual, 90 days) unsaved."""
    row = BookSettings.objects.filter(pk=1).first()
    return row if row is not None else BookSettings(pk=1)


def is_accrual() -> bool:
    return book_settings().basis == BookSettings.Basis.ACCRUAL


def non_accrual_dpd() -> int:
    return int(book_settings().non_accrual_dpd or NON_ACCRUAL_DPD_DEFAULT)


@transaction.atomic
def book_settings_update(*, basis: str, non_accrual_dpd: int, actor: Any) -> BookSettings:
    """Change the basis or the threshold (audited). Switching to accrual starts accruing at the
    next close of business (the current period's interest so far is caught up on that day);
    switching to cash stops accruing — the receivables already booked are settled by receipts
    as before."""
    if basis not in BookSettings.Basis.values:
        raise ValueError(_("未知的记账基础：%(b)s") % {"b": basis})
    if int(non_accrual_dpd) < 1:
        raise ValueError(_("转非应计逾期天数必须大于 0。"))
    row, _created = BookSettings.objects.select_for_update().get_or_create(pk=1)
    before = {"basis": row.basis, "non_accrual_dpd": row.non_accrual_dpd}
    row.basis, row.non_accrual_dpd = basis, int(non_accrual_dpd)
    row.changed_by = actor if getattr(actor, "is_authenticated", False) else None
    row.save()
    after = {"basis": row.basis, "non_accrual_dpd": row.non_accrual_dpd}
    audit_record(
        action="books.settings",
        actor=actor,
        obj=row,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
    )
    return row


# ---------------------------------------------------------------------------------------------
# receipts: split the income lines of a loan entry
# ---------------------------------------------------------------------------------------------


def _state_for(loan: Any, *, create: bool) -> LoanAccrual | None:
    state = LoanAccrual.objects.select_for_update().filter(loan_id=loan.pk).first()
    if state is None and create:
        product_id = loan.product_version.product_id
        state = LoanAccrual.objects.create(loan_id=loan.pk, product_id=product_id)
    return state


def _roll_period(state: LoanAccrual, day: dt.date) -> None:
    """Point the row at the installment period containing ``day`` (a receipt before the close
    reached it)."""
    if state.period_due is not None and state.period_due >= day:
        return
    from credo.lending.models import Installment, Loan

    cur = (
        Installment.objects.filter(loan_id=state.loan_id, due_date__gte=day)
        .order_by("due_date")
        .values("period", "due_date", "interest_due")
        .first()
    )
    if cur is None:
        return
    prev = (
        Installment.objects.filter(loan_id=state.loan_id, period=cur["period"] - 1)
        .values_list("due_date", flat=True)
        .first()
    )
    start = prev or Loan.objects.filter(pk=state.loan_id).values_list("start_date", flat=True)[0]
    state.period_start, state.period_due = start, cur["due_date"]
    state.period_interest, state.period_accrued = _fen(cur["interest_due"]), 0


def split_entry_lines(
    loan: Any, kind: str, business_date: dt.date, rows: list[tuple[str, int, int]]
) -> list[tuple[str, int, int]]:
    """Called by ``post_entry`` for a loan entry: on the accrual basis a credit to 利息收入 /
    罚息收入 settles the loan's receivable first (Cr 应收利息 up to its balance, the rest stays
    income: not yet accrued, or collected on a non-accrual loan — then it reduces 表外 first);
    and every line on a receivable account moves the loan's sub-ledger. Entries that already
    name a receivable (this module's, a 冲正 mirroring a receipt) are kept as they are."""
    codes = {code for code, _d, _c in rows}
    touches = codes & {c for _n, inc, rec in COMPONENTS for c in (inc, rec)}
    if not touches or not is_accrual():
        return rows
    explicit = bool(codes & set(RECEIVABLES))
    state = _state_for(loan, create=explicit)
    out = list(rows)
    if not explicit and state is not None:
        out = []
        for code, debit, credit in rows:
            comp = next((c for c, inc, _r in COMPONENTS if inc == code), None)
            if comp is None:
                out.append((code, debit, credit))
                continue
            receivable = getattr(state, f"{comp}_receivable")
            if credit:
                settle, direct = calc.split_receipt(credit, receivable)
                out += [(f"{comp}_receivable", 0, settle), (code, 0, direct)]
                _recognised_on_receipt(state, comp, direct, business_date)
            else:
                out.append((code, debit, 0))
                _unrecognised(state, comp, debit)
    elif not explicit and state is None:
        return rows
    elif kind not in OWN_KINDS and state is not None:
        # a 冲正 of a receipt: its income debits un-recognise what was income when received
        for code, debit, _c in rows:
            comp = next((c for c, inc, _r in COMPONENTS if inc == code), None)
            if comp is not None and debit:
                _unrecognised(state, comp, debit)
    assert state is not None
    for comp, _inc, rec in COMPONENTS:
        moved = sum(d - c for code, d, c in out if code == rec)
        if moved:
            setattr(state, f"{comp}_adjusted", getattr(state, f"{comp}_adjusted") + moved)
    state.save()
    return out


def _recognised_on_receipt(state: LoanAccrual, comp: str, amount: int, day: dt.date) -> None:
    """Income recognised when received: first what was off balance (表外), then (interest of an
    accruing loan) what the close has not accrued yet of the current period — counted as
    accrued for it, so the period's total stays its scheduled interest."""
    if amount <= 0:
        return
    off = min(amount, getattr(state, f"{comp}_off_balance"))
    setattr(state, f"{comp}_off_balance", getattr(state, f"{comp}_off_balance") - off)
    rest = amount - off
    if comp == "interest" and rest > 0 and state.non_accrual_since is None:
        _roll_period(state, day)
        state.period_accrued += rest


def _unrecognised(state: LoanAccrual, comp: str, amount: int) -> None:
    """A receipt recognised as income is undone (冲正): non-accrual — back to 表外; accruing —
    the current period may accrue it again."""
    if state.non_accrual_since is not None:
        setattr(state, f"{comp}_off_balance", getattr(state, f"{comp}_off_balance") + amount)
    elif comp == "interest":
        state.period_accrued = max(state.period_accrued - amount, 0)


def split_replay_diff(loan: Any, diff: dict[str, int]) -> dict[str, int]:
    """A replay's ledger difference is computed on the cash basis (interest and 罚息 received);
    on the accrual basis the income lines settle / restore the receivable like a receipt
    (a replay that finds less interest received restores the receivable of an accruing loan,
    or 表外 of a non-accrual one)."""
    if not any(diff.get(inc) for _c, inc, _r in COMPONENTS) or not is_accrual():
        return diff
    state = _state_for(loan, create=False)
    if state is None:
        return diff
    out = dict(diff)
    for comp, inc, rec in COMPONENTS:
        amount = out.pop(inc, 0)
        if amount < 0:  # more received: credit
            settle, direct = calc.split_receipt(-amount, getattr(state, f"{comp}_receivable"))
            out[rec] = out.get(rec, 0) - settle
            out[inc] = -direct
            _recognised_on_receipt(state, comp, direct, loan.last_eod_date or dt.date.min)
        elif amount > 0:  # less received: debit
            if state.non_accrual_since is None:
                out[rec] = out.get(rec, 0) + amount
            else:
                out[inc] = amount
                _unrecognised(state, comp, amount)
        for code in (inc, rec):
            if out.get(code) == 0:
                out.pop(code)
        setattr(state, f"{comp}_adjusted", getattr(state, f"{comp}_adjusted") + out.get(rec, 0))
    state.save()
    return out


def fold_receivables(balances: dict[str, int]) -> dict[str, int]:
    """A loan's own journal balances with the receivable accounts folded into the income
    accounts: what the cash-basis replay compares (interest and 罚息 received)."""
    out = dict(balances)
    for _c, inc, rec in COMPONENTS:
        if rec in out:
            out[inc] = out.get(inc, 0) + out.pop(rec)
    return out


def replay_corrections(
    items: Iterable[tuple[Any, dt.date, list[calc.Inst], dt.date]], actor: Any, today: dt.date
) -> int:
    """After a replay: the receivable (and 表外) each loan's replayed installments imply as of
    its last close; the difference to the sub-ledger is posted as one 利息计提 correction entry
    per loan dated ``today``. ``items`` = (loan, value date, installments, as_of). Returns the
    number of entries."""
    if not is_accrual():
        return 0
    items = list(items)
    states = {
        s.loan_id: s
        for s in LoanAccrual.objects.select_for_update().filter(
            loan_id__in=[loan.pk for loan, *_r in items]
        )
    }
    from credo.lending import ledger
    from credo.lending.models import JournalEntry

    posted = 0
    for loan, start, insts, as_of in items:
        state = states.get(loan.pk)
        if state is None:
            if loan.status not in ("active", "overdue") or as_of < start:
                continue
            # first accrual of a loan brought up to date by a replay (the first close of a
            # database replays each loan to the day before): what it earned so far is accrued now
            state = LoanAccrual(loan_id=loan.pk, product_id=loan.product_version.product_id)
            state.last_date = as_of
        as_of = min(as_of, state.last_date or as_of)
        if (
            state.non_accrual_since is not None
            and loan.status in ("active", "overdue")
            and not calc.crossed_threshold(insts, non_accrual_dpd(), as_of)
        ):
            # the replayed history never went over the threshold (money valued before it
            # arrived late): the loan accrues as if on time — 表外 back on the receivable
            state.non_accrual_since = None
            state.interest_off_balance = state.penalty_off_balance = 0
        _point_period(state, start, insts, as_of)
        interest, penalty = calc.earned_unpaid(start, insts, as_of)
        lines: list[tuple[str, int, int]] = []
        for comp, inc, rec, unpaid in (
            ("interest", "interest_income", "interest_receivable", interest),
            ("penalty", "penalty_income", "penalty_receivable", penalty),
        ):
            off = getattr(state, f"{comp}_off_balance")
            receivable = getattr(state, f"{comp}_receivable")
            if state.non_accrual_since is not None:
                setattr(state, f"{comp}_off_balance", max(unpaid - receivable, 0))
                continue
            target = max(unpaid - off, 0)
            if target > receivable:
                lines += [(rec, target - receivable, 0), (inc, 0, target - receivable)]
            elif target < receivable:
                lines += [(inc, receivable - target, 0), (rec, 0, receivable - target)]
        state.save()
        if lines:
            ledger.post_entry(
                loan=loan,
                kind=JournalEntry.Kind.ACCRUAL,
                business_date=today,
                actor=actor,
                memo=f"计提调整 {loan.number}（重算）",
                lines=lines,
            )
            posted += 1
    return posted


def _point_period(
    state: LoanAccrual, start: dt.date, insts: list[calc.Inst], as_of: dt.date
) -> None:
    """Point the row at the period after ``as_of`` with what of it is recognised (earned by
    ``as_of``, or paid ahead), so the next close goes on from there."""
    for begin, inst in calc.periods(start, insts):
        if inst.due_date > as_of:
            earned = calc.cumulative(inst.interest_due, begin, inst.due_date, as_of)
            state.period_start, state.period_due = begin, inst.due_date
            state.period_interest = inst.interest_due
            state.period_accrued = max(earned, min(inst.interest_paid, inst.interest_due))
            return
    state.period_start, state.period_due, state.period_interest, state.period_accrued = (
        start,
        None,
        0,
        0,
    )


# ---------------------------------------------------------------------------------------------
# the close of business
# ---------------------------------------------------------------------------------------------


def accrue_range(
    day: dt.date, first_id: int, last_id: int, penalty: Mapping[int, int], actor: Any = None
) -> dict[str, int]:
    """The day's accrual for the loans of ``[first_id, last_id]`` the close has just closed
    (``last_eod_date = day``, still open), inside the chunk's transaction: make sure each has
    its sub-ledger row pointing at the current installment period, move loans across the
    non-accrual threshold, then add the day's interest (cumulative rounding,
    :mod:`~credo.lending.accruals.calc`) and the 罚息 the close charged (``penalty``: loan id →
    fen) — in set-based statements on PostgreSQL — and record per product what the chunk
    accrued (:class:`AccrualBatch`, posted after the close)."""
    counts = {"accrued_loans": 0, "accrued_interest": 0, "accrued_penalty": 0, "non_accrual": 0}
    settings_row = book_settings()
    if settings_row.basis != BookSettings.Basis.ACCRUAL:
        return counts
    threshold = int(settings_row.non_accrual_dpd or NON_ACCRUAL_DPD_DEFAULT)
    from credo.lending.states import LOAN_OPEN_STATES

    open_states = list(LOAN_OPEN_STATES)
    pg = connection.vendor == "postgresql"
    _reconcile_rebuilt(day, first_id, last_id, open_states, actor, pg)
    if pg:
        _refresh_periods_pg(day, first_id, last_id, open_states)
    else:
        _refresh_periods_py(day, first_id, last_id, open_states)
    counts["non_accrual"] = _non_accrual_moves(day, first_id, last_id, threshold, actor)
    totals = (
        _accrue_pg(day, first_id, last_id, open_states, penalty)
        if pg
        else _accrue_py(day, first_id, last_id, open_states, penalty)
    )
    batches = [
        AccrualBatch(business_date=day, product_id=pid, interest=i, penalty=p, loans=n)
        for pid, i, p, n in totals
        if i or p
    ]
    if batches:
        AccrualBatch.objects.bulk_create(batches)
    counts["accrued_loans"] = sum(n for *_x, n in totals)
    counts["accrued_interest"] = sum(i for _p, i, _x, _n in totals)
    counts["accrued_penalty"] = sum(p for _p, _i, p, _n in totals)
    return counts


_CLOSED_TODAY = (
    "l.id BETWEEN %(a)s AND %(b)s AND l.last_eod_date = %(day)s AND l.status = ANY(%(open)s)"
)


def _reconcile_rebuilt(
    day: dt.date, first_id: int, last_id: int, open_states: list[str], actor: Any, pg: bool
) -> int:
    """Loans whose schedule was rebuilt since their last close (提前还款, 重定价, 重组, 收费…):
    the row's period (start, due date, scheduled interest) is no longer an installment period
    of the loan, so what it accrued follows a schedule that is gone. Each is reconciled like a
    replay (:func:`replay_corrections` as of its last close): receivable = interest earned by
    the current schedule − interest received, and the row points at the current period.
    Few a day; found with one statement that looks only at the loans whose ``version`` moved
    since their row was last checked (``checked_version``: every schedule rebuild bumps it)."""
    from credo.lending.models import Installment, Loan

    if pg:
        with connection.cursor() as cur:
            cur.execute(
                f"""
                SELECT a.loan_id FROM lending_loanaccrual a JOIN lending_loan l ON l.id = a.loan_id
                 WHERE a.loan_id BETWEEN %(a)s AND %(b)s AND {_CLOSED_TODAY}
                   AND a.period_due IS NOT NULL AND a.last_date IS NOT NULL
                   AND a.last_date < %(day)s
                   AND a.checked_version IS DISTINCT FROM l.version
                   AND NOT EXISTS (
                       SELECT 1 FROM lending_installment i
                         LEFT JOIN lending_installment p
                           ON p.loan_id = i.loan_id AND p.period = i.period - 1
                        WHERE i.loan_id = a.loan_id AND i.due_date = a.period_due
                          AND i.interest_due = a.period_interest
                          AND COALESCE(p.due_date, l.start_date) = a.period_start)
                """,  # noqa: S608 — constant SQL
                {"a": first_id, "b": last_id, "day": day, "open": open_states},
            )
            ids = [row[0] for row in cur.fetchall()]
    else:
        rows = list(
            LoanAccrual.objects.filter(
                loan_id__gte=first_id,
                loan_id__lte=last_id,
                loan__last_eod_date=day,
                loan__status__in=open_states,
                period_due__isnull=False,
                last_date__lt=day,
            )
            .exclude(checked_version=F("loan__version"))
            .values_list("loan_id", "period_start", "period_due", "period_interest")
        )
        starts = dict(
            Loan.objects.filter(pk__in=[r[0] for r in rows]).values_list("id", "start_date")
        )
        periods: set[tuple[Any, ...]] = set()
        prev: dict[int, dt.date] = {}
        for lid, due, interest in (
            Installment.objects.filter(loan_id__in=[r[0] for r in rows])
            .order_by("loan_id", "period")
            .values_list("loan_id", "due_date", "interest_due")
        ):
            periods.add((lid, prev.get(lid, starts[lid]), due, _fen(interest)))
            prev[lid] = due
        ids = [r[0] for r in rows if (r[0], r[1], r[2], int(r[3])) not in periods]
    if not ids:
        return 0
    return loans_reconcile(Loan.objects.filter(pk__in=ids).order_by("pk"), actor, day)


def loans_reconcile(loans: Iterable[Any], actor: Any, today: dt.date) -> int:
    """Bring these loans' receivable and period pointer in line with their current
    installments as of their last close (one 利息计提 correction entry per loan that differs,
    dated ``today``). Returns the number of entries."""
    from credo.lending.models import Installment

    loans = list(loans)
    last = dict(
        LoanAccrual.objects.filter(loan_id__in=[x.pk for x in loans]).values_list(
            "loan_id", "last_date"
        )
    )
    insts: dict[int, list[calc.Inst]] = defaultdict(list)
    for i in Installment.objects.filter(loan_id__in=[x.pk for x in loans]).order_by("period"):
        insts[i.loan_id].append(
            calc.Inst(
                i.due_date,
                _fen(i.interest_due),
                _fen(i.interest_paid),
                _fen(i.penalty_due),
                _fen(i.penalty_paid),
                i.paid_on,
            )
        )
    items: list[tuple[Any, dt.date, list[calc.Inst], dt.date]] = []
    for loan in loans:
        as_of = last.get(loan.pk)
        if as_of is not None and loan.start_date is not None:
            items.append((loan, loan.start_date, insts[loan.pk], as_of))
    return replay_corrections(items, actor, today)


def _refresh_periods_pg(day: dt.date, first_id: int, last_id: int, open_states: list[str]) -> None:
    """A row for each loan closed today without one, and the current period for the rows whose
    period ended (or ends today: its scheduled interest is read again, so the period's total
    is the installment's interest as it stands on its due date)."""
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO lending_loanaccrual AS t (loan_id, product_id, interest_accrued,
                interest_adjusted, interest_off_balance, penalty_accrued, penalty_adjusted,
                penalty_off_balance, period_start, period_due, period_interest, period_accrued)
            SELECT l.id, pv.product_id, 0, 0, 0, 0, 0, 0, COALESCE(prev.due_date, l.start_date),
                   c.due_date, COALESCE(c.interest_due, 0), 0
              FROM lending_loan l
              JOIN lending_productversion pv ON pv.id = l.product_version_id
              LEFT JOIN lending_loanaccrual a ON a.loan_id = l.id
              LEFT JOIN LATERAL (
                  SELECT i.period, i.due_date, i.interest_due FROM lending_installment i
                   WHERE i.loan_id = l.id AND i.due_date >= %(day)s
                   ORDER BY i.due_date LIMIT 1) c ON true
              LEFT JOIN lending_installment prev
                ON prev.loan_id = l.id AND prev.period = c.period - 1
             WHERE {_CLOSED_TODAY}
               AND (a.loan_id IS NULL OR a.period_due IS NULL OR a.period_due <= %(day)s)
               AND (a.last_date IS NULL OR a.last_date < %(day)s)
            ON CONFLICT (loan_id) DO UPDATE SET
                period_accrued = CASE WHEN t.period_due = EXCLUDED.period_due
                                      THEN t.period_accrued ELSE 0 END,
                period_start = EXCLUDED.period_start, period_due = EXCLUDED.period_due,
                period_interest = EXCLUDED.period_interest
            """,  # noqa: S608 — constant SQL
            {"a": first_id, "b": last_id, "day": day, "open": open_states},
        )


def _refresh_periods_py(day: dt.date, first_id: int, last_id: int, open_states: list[str]) -> None:
    from credo.lending.models import Installment, Loan

    loans = list(
        Loan.objects.filter(
            id__gte=first_id, id__lte=last_id, last_eod_date=day, status__in=open_states
        ).values_list("id", "start_date", "product_version__product_id")
    )
    states = {s.loan_id: s for s in LoanAccrual.objects.filter(loan_id__in=[i for i, *_r in loans])}
    insts: dict[int, list[tuple[int, dt.date, int]]] = defaultdict(list)
    for lid, period, due, interest in (
        Installment.objects.filter(loan_id__in=[i for i, *_r in loans])
        .order_by("loan_id", "period")
        .values_list("loan_id", "period", "due_date", "interest_due")
    ):
        insts[lid].append((period, due, _fen(interest)))
    for lid, start, product_id in loans:
        state = states.get(lid)
        if state is not None and (
            (state.last_date is not None and state.last_date >= day)
            or (state.period_due is not None and state.period_due > day)
        ):
            continue
        rows = insts.get(lid, [])
        cur = next((r for r in sorted(rows, key=lambda r: r[1]) if r[1] >= day), None)
        if state is None:
            state = LoanAccrual(loan_id=lid, product_id=product_id)
        new: tuple[dt.date | None, dt.date | None, int]
        if cur is None:
            new = (start, None, 0)
        else:
            prev = next((r[1] for r in rows if r[0] == cur[0] - 1), None)
            new = (prev or start, cur[1], cur[2])
        if state.period_due != new[1]:
            state.period_accrued = 0
        state.period_start, state.period_due, state.period_interest = new
        state.save()


def _non_accrual_moves(
    day: dt.date, first_id: int, last_id: int, threshold: int, actor: Any
) -> int:
    """转非应计 for loans now over the threshold (reversal entry per loan: few a day), back to
    accrual for non-accrual loans now current (DPD 0)."""
    from credo.lending.models import Loan

    if connection.vendor == "postgresql":
        # two plain statements: Django's UPDATE over a join becomes IN (subquery)
        params: dict[str, Any] = {"a": first_id, "b": last_id, "day": day, "t": threshold}
        with connection.cursor() as cur:
            cur.execute(
                """
                UPDATE lending_loanaccrual a SET non_accrual_since = NULL FROM lending_loan l
                 WHERE l.id = a.loan_id AND a.loan_id BETWEEN %(a)s AND %(b)s
                   AND l.id BETWEEN %(a)s AND %(b)s
                   AND a.non_accrual_since IS NOT NULL AND l.dpd = 0
                   AND l.last_eod_date = %(day)s
                   AND (a.last_date IS NULL OR a.last_date < %(day)s)
                """,
                params,
            )
            cur.execute(
                """
                SELECT a.loan_id FROM lending_loanaccrual a JOIN lending_loan l ON l.id = a.loan_id
                 WHERE a.loan_id BETWEEN %(a)s AND %(b)s AND l.id BETWEEN %(a)s AND %(b)s
                   AND a.non_accrual_since IS NULL
                   AND l.dpd > %(t)s AND l.last_eod_date = %(day)s
                   AND (a.last_date IS NULL OR a.last_date < %(day)s)
                """,
                params,
            )
            ids = [row[0] for row in cur.fetchall()]
        moving = (
            list(
                LoanAccrual.objects.select_for_update().filter(loan_id__in=ids).order_by("loan_id")
            )
            if ids
            else []
        )
    else:
        chunk = LoanAccrual.objects.filter(
            loan_id__gte=first_id,
            loan_id__lte=last_id,
            loan__last_eod_date=day,
        ).exclude(last_date__gte=day)
        chunk.filter(non_accrual_since__isnull=False, loan__dpd=0).update(non_accrual_since=None)
        moving = list(
            chunk.filter(non_accrual_since__isnull=True, loan__dpd__gt=threshold)
            .select_for_update()
            .order_by("loan_id")
        )
    if not moving:
        return 0
    loans = {loan.pk: loan for loan in Loan.objects.filter(pk__in=[s.loan_id for s in moving])}
    for state in moving:
        loan = loans[state.loan_id]
        _to_non_accrual(loan, state, day, actor, f"逾期 {loan.dpd} 天")
    return len(moving)


def _to_non_accrual(
    loan: Any, state: LoanAccrual, day: dt.date, actor: Any, why: str
) -> tuple[int, int]:
    from credo.lending import ledger
    from credo.lending.models import JournalEntry

    interest, penalty = state.interest_receivable, state.penalty_receivable
    if interest or penalty:
        ledger.post_entry(
            loan=loan,
            kind=JournalEntry.Kind.NON_ACCRUAL,
            business_date=day,
            actor=actor,
            memo=f"转非应计 {loan.number}（{why}），已计提未收利息转表外",
            lines=[
                ("interest_income", interest, 0),
                ("interest_receivable", 0, interest),
                ("penalty_income", penalty, 0),
                ("penalty_receivable", 0, penalty),
            ],
        )
    # post_entry moved *_adjusted on the row; the reversed amounts go off balance
    LoanAccrual.objects.filter(pk=state.pk).update(
        non_accrual_since=day,
        interest_off_balance=F("interest_off_balance") + interest,
        penalty_off_balance=F("penalty_off_balance") + penalty,
    )
    return interest, penalty


def loan_to_non_accrual(*, loan: Any, day: dt.date, actor: Any, why: str) -> tuple[int, int]:
    """Stop accruing one loan now (e.g. at 核销 or a manual decision): the accrued-unpaid
    interest and 罚息 are reversed (Dr 利息收入 / Cr 应收利息) and held off balance. Returns the
    (interest, 罚息) moved; (0, 0) for a loan never accrued or already non-accrual."""
    state = LoanAccrual.objects.select_for_update().filter(loan_id=loan.pk).first()
    if state is None or state.non_accrual_since is not None or not is_accrual():
        return 0, 0
    return _to_non_accrual(loan, state, day, actor, why)


def _accrue_pg(
    day: dt.date,
    first_id: int,
    last_id: int,
    open_states: list[str],
    penalty: Mapping[int, int],
) -> list[tuple[int, int, int, int]]:
    params: dict[str, Any] = {"a": first_id, "b": last_id, "day": day, "open": open_states}
    pen: dict[int, int] = defaultdict(int)
    pids = [lid for lid, amount in penalty.items() if amount]
    with connection.cursor() as cur:
        if pids:
            # the few loans the close charged 罚息 today, on their own: joined into the day's
            # statement below, the array made PostgreSQL (estimating one freshly closed loan)
            # loop over it for every row of the chunk
            cur.execute(
                """
                UPDATE lending_loanaccrual t SET
                    penalty_accrued = t.penalty_accrued
                        + CASE WHEN t.non_accrual_since IS NULL THEN p.amount ELSE 0 END,
                    penalty_off_balance = t.penalty_off_balance
                        + CASE WHEN t.non_accrual_since IS NULL THEN 0 ELSE p.amount END
                  FROM unnest(%(pids)s::bigint[], %(pamts)s::bigint[]) AS p(loan_id, amount)
                 WHERE t.loan_id = p.loan_id AND (t.last_date IS NULL OR t.last_date < %(day)s)
                RETURNING t.product_id, t.non_accrual_since IS NULL, p.amount
                """,
                {**params, "pids": pids, "pamts": [int(penalty[i]) for i in pids]},
            )
            for product_id, accruing, amount in cur.fetchall():
                if accruing:
                    pen[int(product_id)] += int(amount)
        cur.execute(
            f"""
            WITH v AS (
                SELECT a.loan_id, a.product_id, a.non_accrual_since IS NOT NULL AS na,
                       l.version,
                       GREATEST(CASE
                           WHEN a.period_due IS NULL THEN a.period_accrued
                           WHEN %(day)s >= a.period_due OR a.period_due <= a.period_start
                               THEN a.period_interest
                           WHEN %(day)s <= a.period_start THEN 0
                           ELSE a.period_interest * (%(day)s::date - a.period_start)
                                / (a.period_due - a.period_start)
                       END - a.period_accrued, 0) AS inc
                  FROM lending_loanaccrual a
                  JOIN lending_loan l ON l.id = a.loan_id
                 WHERE a.loan_id BETWEEN %(a)s AND %(b)s AND {_CLOSED_TODAY}
                   AND (a.last_date IS NULL OR a.last_date < %(day)s)
            ), upd AS (
                UPDATE lending_loanaccrual t SET
                    interest_accrued = t.interest_accrued + CASE WHEN v.na THEN 0 ELSE v.inc END,
                    interest_off_balance = t.interest_off_balance
                        + CASE WHEN v.na THEN v.inc ELSE 0 END,
                    period_accrued = t.period_accrued + v.inc,
                    last_date = %(day)s, checked_version = v.version
                  FROM v WHERE t.loan_id = v.loan_id
                RETURNING v.product_id, v.na, v.inc
            )
            SELECT product_id, COALESCE(SUM(inc) FILTER (WHERE NOT na), 0), COUNT(*)
              FROM upd GROUP BY product_id ORDER BY product_id
            """,  # noqa: S608 — constant SQL
            params,
        )
        rows = [(int(p), int(i), int(n)) for p, i, n in cur.fetchall()]
    return [(p, i, pen.pop(p, 0), n) for p, i, n in rows] + [
        (p, 0, x, 0) for p, x in sorted(pen.items())
    ]


def _accrue_py(
    day: dt.date,
    first_id: int,
    last_id: int,
    open_states: list[str],
    penalty: Mapping[int, int],
) -> list[tuple[int, int, int, int]]:
    rows = list(
        LoanAccrual.objects.filter(
            loan_id__gte=first_id,
            loan_id__lte=last_id,
            loan__last_eod_date=day,
            loan__status__in=open_states,
        )
        .exclude(last_date__gte=day)
        .annotate(loan_version=F("loan__version"))
        .order_by("loan_id")
    )
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in rows:
        if s.period_due is None or s.period_start is None:
            inc = 0
        else:
            inc = max(
                calc.cumulative(s.period_interest, s.period_start, s.period_due, day)
                - s.period_accrued,
                0,
            )
        pinc = int(penalty.get(s.loan_id, 0))
        na = s.non_accrual_since is not None
        if na:
            s.interest_off_balance += inc
            s.penalty_off_balance += pinc
        else:
            s.interest_accrued += inc
            s.penalty_accrued += pinc
            totals[s.product_id][0] += inc
            totals[s.product_id][1] += pinc
        totals[s.product_id][2] += 1
        s.period_accrued += inc
        s.last_date = day
        s.checked_version = s.loan_version  # type: ignore[attr-defined]
    LoanAccrual.objects.bulk_update(
        rows,
        [
            "interest_accrued",
            "interest_off_balance",
            "penalty_accrued",
            "penalty_off_balance",
            "period_accrued",
            "last_date",
            "checked_version",
        ],
        batch_size=500,
    )
    return [(p, i, x, n) for p, (i, x, n) in sorted(totals.items())]


def post_accruals(run: Any) -> dict[str, int]:
    """After-close job (利息计提入账): the business date's chunk batches as ONE entry per
    product. Idempotent: batches already posted are skipped."""
    from credo.lending import ledger
    from credo.lending.models import JournalEntry, Product

    day = run.business_date
    posted = 0
    with transaction.atomic():
        batches = list(
            AccrualBatch.objects.select_for_update()
            .filter(business_date=day, entry__isnull=True)
            .order_by("id")
        )
        by_product: dict[int, list[AccrualBatch]] = defaultdict(list)
        for b in batches:
            by_product[b.product_id].append(b)
        products = Product.objects.in_bulk(list(by_product))
        for pid, group in sorted(by_product.items()):
            interest = sum(b.interest for b in group)
            penalty = sum(b.penalty for b in group)
            product = products[pid]
            entry = ledger.post_entry(
                loan=None,
                product=product,
                kind=JournalEntry.Kind.ACCRUAL,
                business_date=day,
                actor=None,
                memo=f"利息计提 {product.name} {day.isoformat()}（{sum(b.loans for b in group)} 笔）",
                lines=[
                    ("interest_receivable", interest, 0),
                    ("interest_income", 0, interest),
                    ("penalty_receivable", penalty, 0),
                    ("penalty_income", 0, penalty),
                ],
            )
            AccrualBatch.objects.filter(pk__in=[b.pk for b in group]).update(entry=entry)
            posted += 1
    return {"entries": posted, "batches": len(batches)}


def unposted_totals() -> dict[str, int]:
    """What the closes accrued that the posting job has not booked yet (fen)."""
    agg = AccrualBatch.objects.filter(entry__isnull=True).aggregate(
        i=Sum("interest"), p=Sum("penalty")
    )
    return {"interest_receivable": int(agg["i"] or 0), "penalty_receivable": int(agg["p"] or 0)}
