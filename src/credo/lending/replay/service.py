"""Replay a loan's value-dated events through the pure engine and write the result.

* :func:`replay_loan` / :func:`replay_loans` — load schedule + non-reversed events (postings incl.
  statement postings and prepayments, waivers, write-off) in value-date order (ties: kind, id),
  run :func:`credo.lending.replay.engine.replay` to ``as_of``, write the derived state
  (installments, loan fields, each posting's allocation, class history) and post ONLY the
  difference between the ledger the replay implies and the loan's current balances as ONE
  correcting entry (kind 倒起息调整) dated today, referenced by a :class:`LoanReplay` record;
* :func:`post_waiver` — a 减免 as a value-dated event, then replay;
* :func:`check_value_date` — refuses a value date before a schedule-changing event (提前还款,
  重组): those rebuilt the schedule, so money before them cannot be replayed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Sum
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.holidays import WorkingCalendar, load_calendar
from credo.customers.events import record_events_bulk
from credo.lending.errors import InvalidLoan, InvalidState
from credo.lending.ledger import account_ids, fen
from credo.lending.models import (
    Installment,
    JournalEntry,
    JournalLine,
    Loan,
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
_KIND_RANK = {"repayment": 0, "prepayment": 0, "fee": 1, "waiver": 2, "write_off": 3}


# ---------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------


def loan_terms(loan: Loan, thresholds: tuple[int, int, int, int] | None = None) -> LoanTerms:
    from credo.lending.eod.common import classification_thresholds

    order = tuple(loan.allocation_order or engine.DEFAULT_ALLOCATION)
    return LoanTerms(
        principal=loan.principal.fen,
        annual_rate=loan.annual_rate,
        start_date=loan.start_date or dt.date.min,
        penalty_multiplier=loan.penalty_multiplier,
        penalty_days_in_year=loan.penalty_days_in_year,
        grace_days=loan.grace_days,
        compound=bool(getattr(loan, "compound_interest", True)),
        penalty_from=getattr(loan, "penalty_from", "due_date") or "due_date",
        holiday_rule=getattr(loan, "holiday_rule", "defer_penalty") or "defer_penalty",
        allocation_order=order,
        upfront_fee=loan.upfront_fee.fen,
        thresholds=thresholds or classification_thresholds(),
    )


def loan_floor(loan: Loan) -> ClassFloor | None:
    floor = getattr(loan, "classification_floor", "")
    if not floor:
        return None
    return ClassFloor(floor, getattr(loan, "classification_floor_until", None))


def schedule_rows(insts: Iterable[Installment]) -> list[ScheduleRow]:
    """The schedule as signed: the due columns plus what was waived (penalty is derived)."""
    rows = []
    for i in insts:
        waived = i.waived or {}
        rows.append(
            ScheduleRow(
                period=i.period,
                due_date=i.due_date,
                principal=i.principal_due.fen,
                interest=i.interest_due.fen + int(waived.get("interest", 0)),
                fee=i.fee_due.fen + int(waived.get("fee", 0)),
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
        keyed[e.loan_id].append(((e.business_date, 3, e.pk), ev))
    return {
        lid: [ev for _k, ev in sorted(items, key=lambda x: x[0])] for lid, items in keyed.items()
    }


def schedule_barrier(loan: Loan) -> dt.date | None:
    """The latest value date of a schedule-changing event: a prepayment, an executed
    restructuring (展期/重组/借新还旧) or an LPR repricing — the schedule after it was computed
    from the balance of that day, so money cannot be replayed across it."""
    candidates = [
        Posting.objects.filter(
            loan=loan, reversed_at__isnull=True, allocation__has_key="prepayment"
        ).aggregate(m=Max("received_on"))["m"],
        Restructuring.objects.filter(loan=loan, executed_on__isnull=False).aggregate(
            m=Max("executed_on")
        )["m"],
        LoanRateChange.objects.filter(loan=loan)
        .exclude(kind=LoanRateChange.Kind.INITIAL)
        .aggregate(m=Max("effective_date"))["m"],
    ]
    dates = [d for d in candidates if d is not None]
    return max(dates) if dates else None


def check_value_date(loan: Loan, value_date: dt.date) -> None:
    """Refuse a value date before the latest schedule-changing event."""
    barrier = schedule_barrier(loan)
    if barrier is not None and value_date < barrier:
        raise InvalidLoan(
            _(
                "起息日 %(d)s 早于该贷款最近一次提前还款/重组/利率重定价（%(b)s）：还款计划已重排，"
                "不能按更早的起息日重算。请按 %(b)s 或之后的日期入账。"
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
    events = loan_events(loan_ids)
    ledger_now = _ledger_now(loan_ids)
    postings = {
        p.pk: p
        for p in Posting.objects.filter(loan_id__in=loan_ids, reversed_at__isnull=True).only(
            "id", "allocation"
        )
    }
    today = clock.today()
    inst_rows: list[dict[str, Any]] = []
    loan_rows: list[dict[str, Any]] = []
    posting_updates: list[Posting] = []
    adjustments: list[tuple[Loan, dict[str, int]]] = []
    history: list[LoanClassHistory] = []
    results: list[tuple[Loan, dict[str, Any], dict[str, Any]]] = []
    for loan in loans:
        insts = insts_by_loan.get(loan.pk, [])
        terms = loan_terms(loan, thresholds)
        loan_as_of = as_of or loan.last_eod_date or (terms.start_date - dt.timedelta(days=1))
        try:
            result = engine.replay(
                terms,
                schedule_rows(insts),
                events.get(loan.pk, []),
                loan_as_of,
                calendar,
                loan_floor(loan),
            )
        except ReplayError as exc:
            raise InvalidLoan(
                _("贷款 %(n)s 无法重算：%(e)s") % {"n": loan.number, "e": exc}
            ) from exc
        before = _summary_of(loan, insts)
        _collect_installments(insts, result, inst_rows)
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
        }
        if any(new_loan[k] != v for k, v in old_loan.items()):
            new_loan["version"] = loan.version + 1
            loan_rows.append(new_loan)
            for k in ("status", "dpd", "classification"):
                setattr(loan, k, new_loan[k])
        for event_id, plan in result.allocations.items():
            posting = postings.get(event_id)
            if posting is not None and posting.allocation != plan:
                posting.allocation = plan
                posting_updates.append(posting)
        current = ledger_now.get(loan.pk, {})
        diff = {
            code: result.ledger[code] - current.get(code, 0)
            for code in LEDGER_ACCOUNTS
            if result.ledger[code] != current.get(code, 0)
        }
        if diff:
            adjustments.append((loan, diff))
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
    _bulk_update(Installment, inst_rows, INST_COLUMNS)
    _bulk_update(Loan, loan_rows, LOAN_COLUMNS)
    if posting_updates:
        Posting.objects.bulk_update(posting_updates, ["allocation"], batch_size=1000)
    entries = _post_adjustments(adjustments, today, actor, reason)
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
    ids = account_ids(LEDGER_ACCOUNTS)
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
