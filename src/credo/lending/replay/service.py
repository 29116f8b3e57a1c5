"""Replay a loan's value-dated events through the pure engine and write the result.

* :func:`replay_loan` / :func:`replay_loans` — load schedule + non-reversed events (postings incl.
  statement postings and prepayments, waivers, write-off) in value-date order (ties: kind, id),
  run :func:`credo.lending.replay.engine.replay` to ``as_of``, write the derived state
  (installments, loan fields, each posting's allocation, class history) and post ONLY the
  difference between the ledger the replay implies and the loan's current balances as ONE
  correcting entry (kind 倒起息调整) dated today, referenced by a :class:`LoanReplay` record;
* :func:`post_waiver` — a 减免 as a value-dated event, then replay;
* :func:`check_value_date` — refuses a value date before an executed restructuring (展期/重组/
  借新还旧): a signed new agreement on the balance of that day, not an event the replay can
  recompute. Prepayments (提前还款) and LPR repricings (重定价) are NOT barriers: the replay
  starts from the loan's original schedule (regenerated from its contract terms and checked
  against the stored rows) and rebuilds the rest of the schedule at each of them through the
  same pure arithmetic the prepayment and repricing services use
  (:mod:`credo.lending.schedule`); the rebuilt installments replace the stored ones. Only a
  loan whose stored schedule does not match its regenerated contract schedule (imported or
  edited) keeps them as barriers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Sum
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.holidays import WorkingCalendar, load_calendar
from credo.customers.events import record_events_bulk
from credo.lending.accruals.calc import Inst
from credo.lending.accruals.services import (
    fold_receivables,
    replay_corrections,
    split_replay_diff,
)
from credo.lending.errors import InvalidLoan, InvalidState
from credo.lending.ledger import account_ids, fen
from credo.lending.models import (
    Installment,
    JournalEntry,
    JournalLine,
    Loan,
    LoanCharge,
    LoanClassHistory,
    LoanRateChange,
    LoanReplay,
    LoanWaiver,
    Posting,
    Restructuring,
)
from credo.lending.replay import engine
from credo.lending.replay.engine import (
    ClassFloor,
    LoanTerms,
    MoneyEvent,
    ReplayError,
    ReplayResult,
    ScheduleRow,
)
from credo.lending.replay.hooks import notify_replayed

__all__ = [
    "ReplayInputs",
    "check_value_date",
    "loan_events",
    "loan_floor",
    "loan_terms",
    "post_waiver",
    "replay_loan",
    "replay_loans",
    "schedule_rows",
]

WAIVER_COMPONENTS = ("penalty", "compound", "fee", "interest")
LEDGER_ACCOUNTS = (
    "loan_principal",
    "interest_income",
    "penalty_income",
    "fee_income",
    "customer_credit",
    "write_off_expense",
    "cash",
)
_KIND_RANK = engine.KIND_RANK  # one order of a day's events, shared with the engine


# ---------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------


def loan_terms(
    loan: Loan,
    thresholds: tuple[int, int, int, int] | None = None,
    *,
    annual_rate: Decimal | None = None,
) -> LoanTerms:
    """The loan's terms for the engine; ``annual_rate`` (default: the current rate) is the
    rate a replay from the start begins with (the rate before the first LPR repricing)."""
    from credo.lending.eod.common import classification_thresholds

    order = tuple(loan.allocation_order or engine.DEFAULT_ALLOCATION)
    return LoanTerms(
        principal=loan.principal.fen,
        annual_rate=loan.annual_rate if annual_rate is None else annual_rate,
        start_date=loan.start_date or dt.date.min,
        penalty_multiplier=loan.penalty_multiplier,
        penalty_days_in_year=loan.penalty_days_in_year,
        grace_days=loan.grace_days,
        compound=bool(getattr(loan, "compound_interest", True)),
        penalty_from=getattr(loan, "penalty_from", "due_date") or "due_date",
        holiday_rule=getattr(loan, "holiday_rule", "defer_penalty") or "defer_penalty",
        allocation_order=order,
        # the fee the ledger holds from disbursement (a fee due with installment 1 is in its fee)
        upfront_fee=0 if loan.upfront_fee_timing == "first_installment" else loan.upfront_fee.fen,
        thresholds=thresholds or classification_thresholds(),
        method=loan.method,
        repayment_day=loan.repayment_day or (loan.start_date.day if loan.start_date else None),
        installment_fee=loan.installment_fee.fen,
    )


def loan_floor(loan: Loan) -> ClassFloor | None:
    floor = getattr(loan, "classification_floor", "")
    if not floor:
        return None
    return ClassFloor(floor, getattr(loan, "classification_floor_until", None))


def schedule_rows(
    insts: Iterable[Installment], charged: Mapping[int, int] | None = None
) -> list[ScheduleRow]:
    """The schedule as signed: the due columns plus what was waived (penalty is derived);
    ``charged`` (period → fen) = the ad hoc charges the last replay put on each period, taken
    out of the fee (they are events of the replay, not part of the schedule)."""
    rows = []
    charged = charged or {}
    for i in insts:
        waived = i.waived or {}
        rows.append(
            ScheduleRow(
                period=i.period,
                due_date=i.due_date,
                principal=i.principal_due.fen,
                interest=i.interest_due.fen + int(waived.get("interest", 0)),
                fee=i.fee_due.fen + int(waived.get("fee", 0)) - charged.get(i.period, 0),
                id=i.pk,
            )
        )
    return rows


def loan_events(loan_ids: list[int]) -> dict[int, list[MoneyEvent]]:
    """The non-reversed money events per loan in value-date order (ties: kind, id)."""
    keyed: dict[int, list[tuple[tuple[Any, ...], MoneyEvent]]] = defaultdict(list)
    for p in Posting.objects.filter(loan_id__in=loan_ids, reversed_at__isnull=True).only(
        "id", "loan_id", "amount", "received_on", "allocation"
    ):
        info = (p.allocation or {}).get("prepayment")
        if info:
            parts = p.allocation.get("installments") or [{}]
            ev = MoneyEvent(
                kind="prepayment",
                value_date=p.received_on,
                id=p.pk,
                amount=p.amount.fen,
                amounts={
                    "principal": int(info.get("principal", 0)),
                    "interest": int(info.get("interest", 0)),
                },
                period=parts[0].get("period"),
            )
        else:
            ev = MoneyEvent(
                kind="repayment", value_date=p.received_on, id=p.pk, amount=p.amount.fen
            )
        keyed[p.loan_id].append(((p.received_on, 0, p.pk), ev))
    for w in LoanWaiver.objects.filter(loan_id__in=loan_ids, reversed_at__isnull=True):
        ev = MoneyEvent(
            kind="waiver",
            value_date=w.value_date,
            id=f"w{w.pk}",
            amounts={k: int(v) for k, v in (w.amounts or {}).items()},
        )
        keyed[w.loan_id].append(((w.value_date, 2, w.pk), ev))
    for e in JournalEntry.objects.filter(
        loan_id__in=loan_ids, kind=JournalEntry.Kind.WRITE_OFF, reversed_by__isnull=True
    ).only("id", "loan_id", "business_date"):
        ev = MoneyEvent(kind="write_off", value_date=e.business_date, id=f"x{e.pk}")
        if e.loan_id is not None:  # always, by the filter (portfolio entries have no loan)
            keyed[e.loan_id].append(((e.business_date, 3, e.pk), ev))
    return {
        lid: [ev for _k, ev in sorted(items, key=lambda x: x[0])] for lid, items in keyed.items()
    }


@dataclass
class ReplayInputs:
    """What the engine replays for one loan. ``rebuild``: the schedule starts from the original
    contract schedule and prepayments/repricings rebuild it on their dates; otherwise the
    stored schedule is replayed as it stands (no schedule event, or a legacy loan whose stored
    schedule cannot be traced back to its contract: ``barrier`` is then the latest date
    money cannot be valued before)."""

    terms: LoanTerms
    schedule: list[ScheduleRow]
    events: list[MoneyEvent]
    rebuild: bool = False
    barrier: dt.date | None = None
    charges: dict[Any, int] = field(default_factory=dict)  # charge event id → LoanCharge pk
    reversed_charges: list[int] = field(default_factory=list)  # to be marked not applied


def _schedule_events(loan_ids: list[int]) -> dict[int, list[MoneyEvent]]:
    """Prepayments (with their mode) and LPR repricings per loan, and the ad hoc charges."""
    out: dict[int, list[MoneyEvent]] = defaultdict(list)
    for p in Posting.objects.filter(
        loan_id__in=loan_ids, reversed_at__isnull=True, allocation__has_key="prepayment"
    ).only("id", "loan_id", "amount", "received_on", "allocation"):
        info = p.allocation.get("prepayment") or {}
        if info.get("mode"):
            out[p.loan_id].append(
                MoneyEvent(
                    kind="prepayment",
                    value_date=p.received_on,
                    id=p.pk,
                    amount=p.amount.fen,
                    mode=str(info["mode"]),
                )
            )
    for r in LoanRateChange.objects.filter(
        loan_id__in=loan_ids, kind=LoanRateChange.Kind.REPRICING
    ).order_by("effective_date", "id"):
        out[r.loan_id].append(
            MoneyEvent(kind="reprice", value_date=r.effective_date, id=f"r{r.pk}", rate=r.new_rate)
        )
    return out


def _undone_rebuilds(loan_ids: list[int]) -> dict[int, dt.date]:
    """The earliest value date of a *reversed* prepayment per loan: its rebuild of the schedule
    is undone too, so the replay must start from the contract schedule up to that date."""
    out: dict[int, dt.date] = {}
    for lid, day in (
        Posting.objects.filter(
            loan_id__in=loan_ids, reversed_at__isnull=False, allocation__has_key="prepayment"
        )
        .order_by("received_on")
        .values_list("loan_id", "received_on")
    ):
        out.setdefault(lid, day)
    return out


def _initial_rates(loan_ids: list[int]) -> dict[int, Decimal]:
    """The rate before each loan's first LPR repricing."""
    out: dict[int, Decimal] = {}
    for r in (
        LoanRateChange.objects.filter(loan_id__in=loan_ids, kind=LoanRateChange.Kind.REPRICING)
        .exclude(old_rate__isnull=True)
        .order_by("-effective_date", "-id")
    ):
        if r.old_rate is not None:
            out[r.loan_id] = r.old_rate  # the earliest wins (ordered latest first)
    return out


def _base_schedule(
    loan: Loan, insts: list[Installment], charged: Mapping[int, int], first: dt.date, rate: Any
) -> list[ScheduleRow] | None:
    """The schedule before the first prepayment/repricing (on ``first``): the contract
    schedule regenerated as at disbursement; the stored rows due before ``first`` must be
    exactly its rows (else None: the loan cannot be traced back, keep the barrier)."""
    from credo.lending.schedule import ScheduleError, generate
    from credo.lending.services.disbursement import holiday_due_dates

    if loan.start_date is None:
        return None
    try:
        sched = generate(
            principal=loan.principal.fen,
            annual_rate=rate,
            months=loan.months,
            method=loan.method,
            start=loan.start_date,
            repayment_day=loan.repayment_day,
        )
    except ScheduleError:
        return None
    rows = sched.installments
    dues = holiday_due_dates(loan, [r.due_date for r in rows])
    fee = loan.installment_fee.fen
    stored = {r.period: r for r in schedule_rows(insts, charged)}
    out: list[ScheduleRow] = []
    for row, due in zip(rows, dues, strict=True):
        if due < first:
            have = stored.get(row.period)
            if have is None or (have.due_date, have.principal, have.interest) != (
                due,
                row.principal,
                row.interest,
            ):
                return None
            out.append(have)
        else:
            # 随首期还款收取: installment 1 carries the upfront fee, as disbursement made it
            with_first = row.period == 1 and loan.upfront_fee_timing == "first_installment"
            extra = loan.upfront_fee.fen if with_first else 0
            out.append(ScheduleRow(row.period, due, row.principal, row.interest, fee + extra))
    return out


def replay_inputs(
    loans: list[Loan],
    insts_by_loan: Mapping[int, list[Installment]],
    thresholds: tuple[int, int, int, int] | None = None,
) -> dict[int, ReplayInputs]:
    """Terms, schedule and every value-dated event per loan (bulk loads)."""
    ids = [loan.pk for loan in loans]
    money = loan_events(ids)
    sched_events = _schedule_events(ids)
    rates = _initial_rates(ids)
    undone = _undone_rebuilds(ids)
    charges: dict[int, list[LoanCharge]] = defaultdict(list)
    for c in LoanCharge.objects.filter(loan_id__in=ids).order_by("charged_on", "id"):
        charges[c.loan_id].append(c)
    restructured = dict(
        Restructuring.objects.filter(loan_id__in=ids, executed_on__isnull=False)
        .values("loan_id")
        .annotate(m=Max("executed_on"))
        .values_list("loan_id", "m")
    )
    out: dict[int, ReplayInputs] = {}
    for loan in loans:
        insts = insts_by_loan.get(loan.pk, [])
        charged: dict[int, int] = defaultdict(int)
        fee_events: list[MoneyEvent] = []
        charge_ids: dict[Any, int] = {}
        reversed_charges: list[int] = []
        for c in charges.get(loan.pk, []):
            if c.due_period is not None:
                charged[c.due_period] += c.amount.fen
                if c.reversed_at is not None:
                    reversed_charges.append(c.pk)
            if c.reversed_at is None:
                key = f"c{c.pk}"
                charge_ids[key] = c.pk
                fee_events.append(
                    MoneyEvent(kind="fee", value_date=c.charged_on, id=key, amount=c.amount.fen)
                )
        rebuilds = sched_events.get(loan.pk, [])
        base_events = money.get(loan.pk, [])
        schedule: list[ScheduleRow] | None = None
        rate = rates.get(loan.pk, loan.annual_rate)
        rebuild_dates = [e.value_date for e in rebuilds]
        if loan.pk in undone:
            rebuild_dates.append(undone[loan.pk])
        if rebuild_dates and loan.pk not in restructured:
            first = min(rebuild_dates)
            schedule = _base_schedule(loan, insts, charged, first, rate)
        if schedule is not None:
            by_id = {e.id: e for e in rebuilds if e.kind == "prepayment"}
            events = [by_id.get(e.id, e) for e in base_events]
            events += [e for e in rebuilds if e.kind == "reprice"]
            events += fee_events
            out[loan.pk] = ReplayInputs(
                loan_terms(loan, thresholds, annual_rate=rate),
                schedule,
                _ordered(events),
                rebuild=True,
                charges=charge_ids,
                reversed_charges=reversed_charges,
            )
            continue
        barrier = max(rebuild_dates, default=None)
        out[loan.pk] = ReplayInputs(
            loan_terms(loan, thresholds),
            schedule_rows(insts, charged),
            _ordered(base_events + fee_events),
            barrier=barrier,
            charges=charge_ids,
            reversed_charges=reversed_charges,
        )
    return out


def _ordered(events: list[MoneyEvent]) -> list[MoneyEvent]:
    """Value-date order; ties: kind, then the record's id."""

    def key(e: MoneyEvent) -> tuple[Any, ...]:
        raw = e.id if isinstance(e.id, int) else int(str(e.id)[1:] or 0)
        return (e.value_date, _KIND_RANK.get(e.kind, 9), raw)

    return sorted(events, key=key)


def _restructured_on(loan: Loan) -> dt.date | None:
    return Restructuring.objects.filter(loan=loan, executed_on__isnull=False).aggregate(
        m=Max("executed_on")
    )["m"]


def _legacy_barrier(loan: Loan) -> dt.date | None:
    """The latest prepayment/repricing of a loan the replay cannot rebuild through (its stored
    schedule does not trace back to its contract schedule); None when it can or has none."""
    if not _schedule_events([loan.pk]).get(loan.pk):  # the common case: two cheap queries
        return None
    insts = list(Installment.objects.filter(loan=loan).order_by("period"))
    return replay_inputs([loan], {loan.pk: insts})[loan.pk].barrier


def schedule_barrier(loan: Loan) -> dt.date | None:
    """The latest date money cannot be valued before: an executed restructuring (展期/重组/
    借新还旧 — a signed new agreement on the balance of that day, not a recomputable event), or,
    for a legacy loan whose stored schedule cannot be traced back to its contract schedule, its
    latest prepayment or LPR repricing."""
    dates = [d for d in (_restructured_on(loan), _legacy_barrier(loan)) if d is not None]
    return max(dates) if dates else None


def check_value_date(loan: Loan, value_date: dt.date) -> None:
    """Refuse a value date before an executed restructuring (or a legacy schedule event)."""
    restructured = _restructured_on(loan)
    if restructured is not None and value_date < restructured:
        raise InvalidLoan(
            _(
                "起息日 %(d)s 早于该贷款的重组/展期/借新还旧执行日（%(b)s）：重组是按当日余额签订的"
                "新协议，之前的资金不能跨过它重算。请按 %(b)s 或之后的日期入账。"
            )
            % {"d": value_date.isoformat(), "b": restructured.isoformat()}
        )
    barrier = _legacy_barrier(loan)
    if barrier is not None and value_date < barrier:
        raise InvalidLoan(
            _(
                "起息日 %(d)s 早于该贷款最近一次提前还款/利率重定价（%(b)s），且其还款计划无法"
                "追溯到合同计划，不能按更早的起息日重算。请按 %(b)s 或之后的日期入账。"
            )
            % {"d": value_date.isoformat(), "b": barrier.isoformat()}
        )


# ---------------------------------------------------------------------------------------------
# replay
# ---------------------------------------------------------------------------------------------


def _summary_of(loan: Loan, insts: list[Installment]) -> dict[str, Any]:
    return {
        "status": loan.status,
        "dpd": loan.dpd,
        "classification": loan.classification,
        "credit_balance": loan.credit_balance.fen,
        "outstanding_principal": loan.outstanding_principal.fen,
        "penalty_due": sum(i.penalty_due.fen for i in insts),
        "compound_due": sum(i.compound_due.fen for i in insts),
        "owed": sum(i.amount_owed() for i in insts if i.status not in ("paid", "written_off")),
    }


INST_COLUMNS = (
    ("status", "text"),
    ("paid_on", "date"),
    ("interest_due", "bigint"),
    ("fee_due", "bigint"),
    ("penalty_due", "bigint"),
    ("compound_due", "bigint"),
    ("principal_paid", "bigint"),
    ("interest_paid", "bigint"),
    ("fee_paid", "bigint"),
    ("penalty_paid", "bigint"),
    ("waived", "jsonb"),
)
LOAN_COLUMNS = (
    ("status", "text"),
    ("dpd", "integer"),
    ("classification", "text"),
    ("credit_balance", "bigint"),
    ("outstanding_principal", "bigint"),
    ("cure_since", "date"),
    ("last_eod_date", "date"),
    ("maturity_date", "date"),
    ("version", "integer"),
)


def _bulk_update(
    model: Any, rows: list[dict[str, Any]], columns: tuple[tuple[str, str], ...]
) -> None:
    """``rows`` = dicts with ``id`` and the columns: one ``UPDATE … FROM unnest`` on PostgreSQL."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        for row in rows:
            model.objects.filter(pk=row["id"]).update(**{c: row[c] for c, _t in columns})
        return
    import json

    table = model._meta.db_table
    names = ", ".join(c for c, _t in columns)
    sets = ", ".join(f"{c} = v.{c}" for c, _t in columns)
    arrays = ", ".join(("%s::text[]" if t == "jsonb" else f"%s::{t}[]") for _c, t in columns)
    select = ", ".join(f"{c}::jsonb AS {c}" if t == "jsonb" else c for c, t in columns)
    params: list[Any] = [[r["id"] for r in rows]]
    for c, t in columns:
        params.append([json.dumps(r[c]) if t == "jsonb" else r[c] for r in rows])
    with connection.cursor() as cur:
        cur.execute(
            # table/column names are constants of this module, never user input
            f"UPDATE {table} AS t SET {sets} FROM (SELECT id, {select} FROM "  # noqa: S608
            f"unnest(%s::bigint[], {arrays}) AS u(id, {names})) AS v WHERE t.id = v.id",
            params,
        )


def _ledger_now(loan_ids: list[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        JournalLine.objects.filter(loan_id__in=loan_ids)
        .values("loan_id", "account__code")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    ):
        out[row["loan_id"]][row["account__code"]] = fen(row["d"]) - fen(row["c"])
    # since provisions exist a write-off charges 贷款损失准备 (or 资产减值损失): to the engine that
    # is the loan's written-off principal, as 贷款核销损失 was before
    for wo in (
        JournalLine.objects.filter(
            loan_id__in=loan_ids,
            entry__kind=JournalEntry.Kind.WRITE_OFF,
            account__code__in=("loan_loss_reserve", "impairment_loss"),
        )
        .values("loan_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    ):
        acc = out[wo["loan_id"]]
        acc["write_off_expense"] = acc.get("write_off_expense", 0) + fen(wo["d"]) - fen(wo["c"])
    return out


def replay_loans(
    loan_ids: Iterable[int],
    as_of: dt.date | None = None,
    actor: Any = None,
    reason: str = "",
    *,
    from_date: dt.date | None = None,
    trigger: Posting | None = None,
    calendar: WorkingCalendar | None = None,
    batch: int = 500,
) -> list[LoanReplay]:
    """Replay many loans (set-based: bulk loads, one UPDATE per table, bulk inserts). ``as_of``
    None = each loan's ``last_eod_date`` (no close at all when it never closed); a given
    ``as_of`` also becomes the loan's ``last_eod_date`` (a catch-up close). Runs in the
    caller's transaction (or its own); loans are row-locked in id order."""
    ids = sorted(set(loan_ids))
    calendar = calendar or load_calendar()
    from credo.lending.eod.common import classification_thresholds

    thresholds = classification_thresholds()
    records: list[LoanReplay] = []
    with transaction.atomic():
        for start in range(0, len(ids), batch):
            records += _replay_batch(
                ids[start : start + batch],
                as_of=as_of,
                actor=actor,
                reason=reason,
                from_date=from_date,
                trigger=trigger,
                calendar=calendar,
                thresholds=thresholds,
            )
    return records


def _replay_batch(
    ids: list[int],
    *,
    as_of: dt.date | None,
    actor: Any,
    reason: str,
    from_date: dt.date | None,
    trigger: Posting | None,
    calendar: WorkingCalendar,
    thresholds: tuple[int, int, int, int],
) -> list[LoanReplay]:
    loans = list(
        Loan.objects.select_for_update().filter(pk__in=ids, start_date__isnull=False).order_by("id")
    )
    if not loans:
        return []
    loan_ids = [loan.pk for loan in loans]
    insts_by_loan: dict[int, list[Installment]] = defaultdict(list)
    for inst in Installment.objects.filter(loan_id__in=loan_ids).order_by("loan_id", "period"):
        insts_by_loan[inst.loan_id].append(inst)
    inputs = replay_inputs(loans, insts_by_loan, thresholds)
    ledger_now = _ledger_now(loan_ids)
    postings = {
        p.pk: p
        for p in Posting.objects.filter(loan_id__in=loan_ids, reversed_at__isnull=True).only(
            "id", "allocation"
        )
    }
    today = clock.today()
    inst_rows: list[dict[str, Any]] = []
    deletes: list[int] = []
    rebuilt: list[tuple[Loan, list[Installment]]] = []
    charge_rows: list[tuple[int, int | None]] = []
    loan_rows: list[dict[str, Any]] = []
    posting_updates: list[Posting] = []
    adjustments: list[tuple[Loan, dict[str, int]]] = []
    history: list[LoanClassHistory] = []
    results: list[tuple[Loan, dict[str, Any], dict[str, Any]]] = []
    accrual_items: list[tuple[Loan, dt.date, list[Inst], dt.date]] = []
    allocated: dict[int, tuple[Posting, dict[str, Any]]] = {}
    for loan in loans:
        insts = insts_by_loan.get(loan.pk, [])
        inp = inputs[loan.pk]
        terms = inp.terms
        loan_as_of = as_of or loan.last_eod_date or (terms.start_date - dt.timedelta(days=1))
        try:
            result = engine.replay(
                terms,
                inp.schedule,
                inp.events,
                loan_as_of,
                calendar,
                loan_floor(loan),
            )
        except ReplayError as exc:
            raise InvalidLoan(
                _("贷款 %(n)s 无法重算：%(e)s") % {"n": loan.number, "e": exc}
            ) from exc
        before = _summary_of(loan, insts)
        if inp.rebuild:
            rebuilt.append((loan, _sync_installments(loan, insts, result, inst_rows, deletes)))
        else:
            _collect_installments(insts, result, inst_rows)
        charge_rows += _charge_periods(inp, result)
        st = result.state
        after = result.summary()
        last_eod = loan.last_eod_date
        if as_of is not None and loan_as_of >= terms.start_date:
            last_eod = max(last_eod or loan_as_of, loan_as_of)
        new_loan = {
            "id": loan.pk,
            "status": loan.status if loan.status == "pending" else st.status,
            "dpd": st.dpd,
            "classification": st.classification,
            "credit_balance": st.credit_balance,
            "outstanding_principal": st.outstanding_principal,
            "cure_since": st.cure_since,
            "last_eod_date": last_eod,
            "maturity_date": (
                max(i.due_date for i in st.insts)
                if inp.rebuild and st.insts
                else loan.maturity_date
            ),
            "version": loan.version,
        }
        old_loan = {
            "status": loan.status,
            "dpd": loan.dpd,
            "classification": loan.classification,
            "credit_balance": loan.credit_balance.fen,
            "outstanding_principal": loan.outstanding_principal.fen,
            "cure_since": loan.cure_since,
            "last_eod_date": loan.last_eod_date,
            "maturity_date": loan.maturity_date,
        }
        if any(new_loan[k] != v for k, v in old_loan.items()):
            new_loan["version"] = loan.version + 1
            loan_rows.append(new_loan)
            for k in ("status", "dpd", "classification"):
                setattr(loan, k, new_loan[k])
        _collect_allocations(result, postings, allocated)
        # 权责发生制: the loan's receivable lines count as interest / 罚息 received
        current = fold_receivables(ledger_now.get(loan.pk, {}))
        diff = {
            code: result.ledger[code] - current.get(code, 0)
            for code in LEDGER_ACCOUNTS
            if result.ledger[code] != current.get(code, 0)
        }
        if diff:
            adjustments.append((loan, split_replay_diff(loan, diff)))
        accrual_items.append((loan, terms.start_date, _accrual_insts(st.insts), loan_as_of))
        history += [
            LoanClassHistory(
                loan_id=loan.pk,
                date=day,
                from_class=old,
                to_class=new,
                dpd=dpd,
                reason=LoanClassHistory.Reason.REPLAY,
            )
            for day, old, new, dpd in result.class_history
            if from_date is None or day >= from_date
        ]
        results.append((loan, before, after))
    posting_updates += _write_schedules(deletes, inst_rows, rebuilt, allocated, charge_rows)
    _bulk_update(Loan, loan_rows, LOAN_COLUMNS)
    if posting_updates:
        Posting.objects.bulk_update(posting_updates, ["allocation"], batch_size=1000)
    entries = _post_adjustments(adjustments, today, actor, reason)
    replay_corrections(accrual_items, actor, today)  # the accrual the new installments imply
    stale = LoanClassHistory.objects.filter(
        loan_id__in=loan_ids,
        reason__in=(LoanClassHistory.Reason.AUTO, LoanClassHistory.Reason.REPLAY),
    )
    if from_date is not None:
        stale = stale.filter(date__gte=from_date)
    stale.delete()
    LoanClassHistory.objects.bulk_create(history, batch_size=2000)
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    records = LoanReplay.objects.bulk_create(
        [
            LoanReplay(
                loan=loan,
                from_date=from_date or loan.start_date or today,
                as_of=as_of or loan.last_eod_date or loan.start_date or today,
                reason=(reason or _("倒起息重算"))[:200],
                trigger_posting=trigger,
                before=before,
                after=after,
                entry=entries.get(loan.pk),
                actor=actor_obj,
            )
            for loan, before, after in results
        ]
    )
    changed = [(loan, b, a) for loan, b, a in results if b != a or loan.pk in entries]
    if changed:
        audit_record(
            action="loan.replay",
            actor=actor_obj,
            object_type="lending.loan",
            object_repr=(changed[0][0].number if len(changed) == 1 else f"{len(changed)} loans"),
            object_id=changed[0][0].pk if len(changed) == 1 else "",
            metadata={
                "reason": reason,
                "from_date": from_date.isoformat() if from_date else None,
                "trigger_posting": trigger.pk if trigger else None,
                "loans": [
                    {
                        "loan": loan.pk,
                        "before": b,
                        "after": a,
                        "entry": getattr(entries.get(loan.pk), "pk", None),
                    }
                    for loan, b, a in changed
                ],
            },
        )
        record_events_bulk(
            [
                {
                    "customer_id": loan.customer_id,
                    "kind": "other",
                    "source": "lending",
                    "obj": loan,
                    "actor": actor_obj,
                    "title": _("贷款 %(n)s 倒起息重算（%(r)s）：%(s0)s → %(s1)s，逾期 %(d)s 天")
                    % {
                        "n": loan.number,
                        "r": reason or _("倒起息重算"),
                        "s0": b["status"],
                        "s1": a["status"],
                        "d": a["dpd"],
                    },
                    "detail": {"before": b, "after": a},
                }
                for loan, b, a in changed
            ]
        )
        for loan, b, a in changed:
            transaction.on_commit(
                lambda lid=loan.pk, b=b, a=a: notify_replayed(lid, b, a)  # type: ignore[misc]
            )
    return records


def _collect_allocations(
    result: ReplayResult,
    postings: Mapping[Any, Posting],
    allocated: dict[int, tuple[Posting, dict[str, Any]]],
) -> None:
    for event_id, plan in result.allocations.items():
        posting = postings.get(event_id)
        if posting is None:
            continue
        info = (posting.allocation or {}).get("prepayment")
        if info is not None:  # keep what the prepayment recorded, with the replay's split
            plan = {**plan, "prepayment": {**info, **plan.get("prepayment", {})}}
        allocated[posting.pk] = (posting, plan)


def _write_schedules(
    deletes: list[int],
    inst_rows: list[dict[str, Any]],
    rebuilt: list[tuple[Loan, list[Installment]]],
    allocated: dict[int, tuple[Posting, dict[str, Any]]],
    charge_rows: list[tuple[int, int | None]],
) -> list[Posting]:
    """Write the installments (rebuilt schedules replace the stored rows), the charges'
    periods, and return the postings whose allocation changed (installment ids by period)."""
    posting_updates: list[Posting] = []
    if deletes:
        Installment.objects.filter(pk__in=deletes).delete()
    _bulk_update(Installment, inst_rows, INST_COLUMNS)
    ids_by_period: dict[int, dict[int, int]] = defaultdict(dict)
    for lid, period, pk in insts_all([loan.pk for loan, _rows in rebuilt]) if rebuilt else []:
        ids_by_period[lid][period] = pk
    created = Installment.objects.bulk_create([i for _loan, rows in rebuilt for i in rows])
    for inst in created:
        ids_by_period[inst.loan_id][inst.period] = inst.pk
    for posting, plan in allocated.values():
        by_period = ids_by_period.get(posting.loan_id, {})
        for part in plan.get("installments", []):
            if part.get("period") in by_period:
                part["installment"] = by_period[part["period"]]
        if posting.allocation != plan:
            posting.allocation = plan
            posting_updates.append(posting)
    for charge_pk, landed in charge_rows:
        LoanCharge.objects.filter(pk=charge_pk).exclude(due_period=landed).update(due_period=landed)
    return posting_updates


def insts_all(loan_ids: list[int]) -> list[tuple[int, int, int]]:
    """(loan id, period, installment id) of the stored rows."""
    return list(
        Installment.objects.filter(loan_id__in=loan_ids).values_list("loan_id", "period", "id")
    )


def _charge_periods(inp: ReplayInputs, result: ReplayResult) -> list[tuple[int, int | None]]:
    """(LoanCharge pk, the period the replay put it on; None = not applied)."""
    landed: dict[Any, int] = {}
    for inst in result.state.insts:
        for key in inst.charges:
            landed[key] = inst.period
    return [(pk, landed.get(key)) for key, pk in inp.charges.items()] + [
        (pk, None) for pk in _reversed_charges(inp)
    ]


def _reversed_charges(inp: ReplayInputs) -> list[int]:
    return list(inp.reversed_charges)


def _inst_values(new: engine.InstState) -> dict[str, Any]:
    return {
        "status": new.status,
        "paid_on": new.paid_on,
        "interest_due": new.interest_due,
        "fee_due": new.fee_due,
        "penalty_due": new.penalty_due,
        "compound_due": new.compound_due,
        "principal_paid": new.principal_paid,
        "interest_paid": new.interest_paid,
        "fee_paid": new.fee_paid,
        "penalty_paid": new.penalty_paid,
        "waived": new.waived,
    }


def _sync_installments(
    loan: Loan,
    insts: list[Installment],
    result: ReplayResult,
    out: list[dict[str, Any]],
    deletes: list[int],
) -> list[Installment]:
    """A rebuilt schedule: a stored row that is still the same installment (period, due date,
    principal, interest before waivers) is updated in place; the others are deleted and the
    rebuilt ones created (as the prepayment and repricing services replace future rows)."""
    stored = {i.period: i for i in insts}
    keep: list[Installment] = []
    create: list[Installment] = []
    for new in result.state.insts:
        old = stored.get(new.period)
        if old is not None and (
            old.due_date,
            old.principal_due.fen,
            old.interest_due.fen + int((old.waived or {}).get("interest", 0)),
        ) == (new.due_date, new.principal_due, new.interest_due + new.waived.get("interest", 0)):
            keep.append(old)
            continue
        create.append(
            Installment(
                loan_id=loan.pk,
                period=new.period,
                due_date=new.due_date,
                principal_due=new.principal_due,
                **_inst_values(new),
            )
        )
    kept = {i.pk for i in keep}
    deletes += [i.pk for i in insts if i.pk not in kept]
    by_period = {i.period: i for i in result.state.insts}
    for inst in keep:
        row = {"id": inst.pk, **_inst_values(by_period[inst.period])}
        out.append(row)
    return create


def _collect_installments(
    insts: list[Installment], result: ReplayResult, out: list[dict[str, Any]]
) -> None:
    by_period = {i.period: i for i in result.state.insts}
    for inst in insts:
        new = by_period[inst.period]
        row = {
            "id": inst.pk,
            "status": new.status,
            "paid_on": new.paid_on,
            "interest_due": new.interest_due,
            "fee_due": new.fee_due,
            "penalty_due": new.penalty_due,
            "compound_due": new.compound_due,
            "principal_paid": new.principal_paid,
            "interest_paid": new.interest_paid,
            "fee_paid": new.fee_paid,
            "penalty_paid": new.penalty_paid,
            "waived": new.waived,
        }
        old = {
            "status": inst.status,
            "paid_on": inst.paid_on,
            "interest_due": inst.interest_due.fen,
            "fee_due": inst.fee_due.fen,
            "penalty_due": inst.penalty_due.fen,
            "compound_due": inst.compound_due.fen,
            "principal_paid": inst.principal_paid.fen,
            "interest_paid": inst.interest_paid.fen,
            "fee_paid": inst.fee_paid.fen,
            "penalty_paid": inst.penalty_paid.fen,
            "waived": inst.waived or {},
        }
        if any(row[k] != v for k, v in old.items()):
            out.append(row)


def _post_adjustments(
    adjustments: list[tuple[Loan, dict[str, int]]], today: dt.date, actor: Any, reason: str
) -> dict[int, JournalEntry]:
    """One balanced 倒起息调整 entry per loan with the per-account differences (bulk)."""
    if not adjustments:
        return {}
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    for loan, diff in adjustments:
        if sum(diff.values()) != 0:
            raise ValueError(f"unbalanced replay adjustment for {loan.number}: {diff}")
    entries = JournalEntry.objects.bulk_create(
        [
            JournalEntry(
                kind=JournalEntry.Kind.ADJUSTMENT,
                loan=loan,
                business_date=today,
                memo=f"倒起息调整 {loan.number}：{reason}"[:200],
                actor=actor_obj,
            )
            for loan, _diff in adjustments
        ]
    )
    ids = account_ids({*LEDGER_ACCOUNTS, *(c for _l, diff in adjustments for c in diff)})
    lines = [
        JournalLine(
            entry=entry,
            account_id=ids[code],
            loan=loan,
            debit=max(amount, 0),
            credit=max(-amount, 0),
        )
        for entry, (loan, diff) in zip(entries, adjustments, strict=True)
        for code, amount in diff.items()
    ]
    JournalLine.objects.bulk_create(lines, batch_size=5000)
    return {loan.pk: entry for entry, (loan, _d) in zip(entries, adjustments, strict=True)}


def _accrual_insts(insts: Iterable[engine.InstState]) -> list[Inst]:
    return [
        Inst(i.due_date, i.interest_due, i.interest_paid, i.penalty_due, i.penalty_paid, i.paid_on)
        for i in insts
    ]


def replay_loan(
    loan: Loan,
    *,
    as_of: dt.date | None = None,
    actor: Any,
    reason: str,
    trigger: Posting | None = None,
    from_date: dt.date | None = None,
) -> LoanReplay:
    """Replay one loan to ``as_of`` (default: its last close of business; nothing closed yet:
    the events only) and post the ledger difference as one 倒起息调整 entry dated today."""
    if from_date is not None:
        check_value_date(loan, from_date)
    records = replay_loans([loan.pk], as_of, actor, reason, from_date=from_date, trigger=trigger)
    if not records:
        raise InvalidState(_("贷款 %(n)s 尚未放款，无需重算。") % {"n": loan.number})
    return records[0]


def post_waiver(
    loan: Loan,
    *,
    amounts: Mapping[str, int],
    value_date: dt.date,
    actor: Any,
    reason: str,
    approved_by: Any = None,
) -> LoanWaiver:
    """减免: record the waiver as a value-dated event and replay the loan from its date.
    ``amounts`` in fen per component (penalty 罚息, compound 复利, fee 费用, interest 利息)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidLoan(_("请填写减免原因。"))
    clean = {k: int(v) for k, v in amounts.items() if int(v)}
    if not clean or any(v < 0 for v in clean.values()):
        raise InvalidLoan(_("减免金额必须大于 0。"))
    bad = set(clean) - set(WAIVER_COMPONENTS)
    if bad:
        raise InvalidLoan(
            _("不能减免：%(c)s（只能减免罚息、复利、费用、利息）。") % {"c": ", ".join(sorted(bad))}
        )
    if value_date > clock.today():
        raise InvalidLoan(_("减免起息日不能晚于今天。"))
    with transaction.atomic():
        locked = Loan.objects.select_for_update().get(pk=loan.pk)
        if locked.start_date is None or value_date < locked.start_date:
            raise InvalidLoan(_("减免起息日不能早于放款日。"))
        check_value_date(locked, value_date)
        waiver = LoanWaiver.objects.create(
            loan=locked,
            value_date=value_date,
            amounts=clean,
            reason=reason[:200],
            actor=actor,
            approved_by=approved_by,
        )
        replay_loan(
            locked,
            actor=actor,
            reason=_("减免：%(r)s") % {"r": reason},
            from_date=value_date,
        )
        audit_record(
            action="loan.waiver",
            actor=actor,
            obj=locked,
            metadata={"waiver": waiver.pk, "amounts": clean, "value_date": value_date.isoformat()},
        )
    return waiver
