"""日终批处理 (close of business): due/overdue marking, DPD, penalty, status, classification.

One :class:`EodRun` per business date, split into :class:`EodChunk` rows by loan-id range. Each
chunk runs in its own transaction (loans row-locked, loans already closed for the date skipped),
so chunks can be shared by several workers (``credo.lending.tasks.eod_chunk``) and a re-run of a
date changes nothing.

Bulk path: the DUE/OVERDUE marking is one set-based UPDATE per chunk (per grace-days value);
per-loan Python work happens only for loans with an unpaid due installment, a non-normal state
to cure, or a maturity 7 days ahead; everything else gets ``last_eod_date`` in one UPDATE.

Ledger choice: the ledger is cash-basis for interest and penalty, so the daily penalty accrual
(罚息计提) is **not** posted — it is added to the oldest overdue installment's ``penalty_due``
and recognised as ``penalty_income`` when a repayment (or credit) pays it. Applying a loan's
credit balance (溢缴款) to newly due installments *is* posted: debit ``customer_credit``,
credit the paid components. ``ledger.verify()`` stays green.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.core.scheduling.reaper import worker_identity
from credo.customers.events import record_event
from credo.customers.models import Customer
from credo.lending import ledger
from credo.lending.errors import LendingError
from credo.lending.models import EodChunk, EodRun, Installment, JournalEntry, Loan
from credo.lending.services import _apply, _due_components, allocation_preview, penalty_for_day

OPEN_STATES = (Loan.Status.ACTIVE, Loan.Status.OVERDUE, Loan.Status.RESTRUCTURED)
UNPAID_DUE = (Installment.Status.DUE, Installment.Status.OVERDUE)
DPD_MARKS = (1, 30, 60, 90)
PAID_OFF_SOON_DAYS = 7
CLASSIFICATION_ENV = "CREDO_CLASSIFICATION_DPD"
CLASSIFICATION_DEFAULT = "1,91,181,361"
COUNT_KEYS = (
    "loans",
    "installments_due",
    "installments_overdue",
    "became_overdue",
    "cured",
    "penalty_fen",
    "credit_applied_fen",
    "classification_changes",
    "paid_off",
)

Listener = Callable[[str, Loan, dict[str, Any]], None]
_LISTENERS: list[Listener] = []
DoneListener = Callable[["EodRun"], None]
_DONE_LISTENERS: list[DoneListener] = []


class EodError(LendingError):
    code = "eod_error"


def register_eod_listener(fn: Listener) -> Listener:
    """``fn(event, loan, detail)`` with event ``became_overdue`` | ``dpd_crossed`` |
    ``paid_off_soon``; called after the chunk's transaction commits. Usable as a decorator."""
    if fn not in _LISTENERS:
        _LISTENERS.append(fn)
    return fn


def register_eod_done_listener(fn: DoneListener) -> DoneListener:
    """``fn(run)`` once a business date's run is DONE (after its last chunk commits): the hook for
    the nightly monitoring and collections batches that must see the day's DPD. Exceptions
    propagate to the worker that finished the run (the run itself stays DONE)."""
    if fn not in _DONE_LISTENERS:
        _DONE_LISTENERS.append(fn)
    return fn


def unregister_eod_done_listener(fn: DoneListener) -> None:
    if fn in _DONE_LISTENERS:
        _DONE_LISTENERS.remove(fn)


def _emit_done(run: EodRun) -> None:
    for fn in list(_DONE_LISTENERS):
        fn(run)


def unregister_eod_listener(fn: Listener) -> None:
    if fn in _LISTENERS:
        _LISTENERS.remove(fn)


def _emit(events: Iterable[tuple[str, Loan, dict[str, Any]]]) -> None:
    for event, loan, detail in events:
        for fn in list(_LISTENERS):
            fn(event, loan, detail)


def classification_thresholds() -> tuple[int, int, int, int]:
    """DPD from which a loan is 关注 / 次级 / 可疑 / 损失 (env ``CREDO_CLASSIFICATION_DPD``)."""
    raw = os.environ.get(CLASSIFICATION_ENV, "").strip() or CLASSIFICATION_DEFAULT
    try:
        values = tuple(int(p) for p in raw.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not 0 < values[0] < values[1] < values[2] < values[3]:
        raise EodError(
            f"{CLASSIFICATION_ENV}={raw!r} 格式错误：应为 4 个递增的正整数（关注、次级、可疑、"
            f"损失的起始逾期天数），例如 {CLASSIFICATION_DEFAULT}"
        )
    return values  # type: ignore[return-value]


def classify(dpd: int, thresholds: tuple[int, int, int, int] | None = None) -> str:
    t = thresholds or classification_thresholds()
    levels = (
        Loan.Classification.SPECIAL_MENTION,
        Loan.Classification.SUBSTANDARD,
        Loan.Classification.DOUBTFUL,
        Loan.Classification.LOSS,
    )
    result: str = Loan.Classification.NORMAL
    for threshold, level in zip(t, levels, strict=True):
        if dpd >= threshold:
            result = level
    return result


def _empty_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)


# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------


def last_done_date() -> dt.date | None:
    """The business date of the latest completed close of business: the date the live book
    (DPD, status, classification) stands at. None before the first close."""
    return (
        EodRun.objects.filter(status=EodRun.Status.DONE)
        .order_by("-business_date")
        .values_list("business_date", flat=True)
        .first()
    )


def dates_to_run(business_date: dt.date) -> list[dt.date]:
    """The missed days up to ``business_date`` in order (from the day after the last DONE run,
    never before the earliest loan start)."""
    last = last_done_date()
    if last is None or business_date <= last:
        return [business_date]
    start = last + dt.timedelta(days=1)
    earliest = Loan.objects.filter(start_date__isnull=False).aggregate(m=Min("start_date"))["m"]
    if earliest is not None and earliest > start:
        start = min(earliest, business_date)
    days = (business_date - start).days
    return [start + dt.timedelta(days=i) for i in range(days + 1)]


def run_eod(
    business_date: dt.date,
    *,
    actor: Any = None,
    chunk_size: int = 5000,
    inline: bool = True,
    progress: Callable[[EodRun], None] | None = None,
) -> EodRun:
    """Run (or catch up to) the close of business for ``business_date``; returns its run.

    A DONE run for the date is returned unchanged (re-running the last completed date is a
    no-op). A date before the last completed close is refused: the loans already stand at the
    later date, so running it would back-date their marking and write that date's report
    snapshot from today's book; recomputing from a past value date is the value-dated replay's
    job, not the close's. With ``inline`` the chunks are processed here, one transaction each;
    otherwise they are enqueued as ``eod_chunk`` tasks and the missed days are chained (the next
    day starts when the previous one is DONE)."""
    if business_date > clock.today():
        raise EodError(_("不能对未来日期（%(d)s）执行日终批处理。") % {"d": business_date})
    last = last_done_date()
    if last is not None and business_date < last:
        raise EodError(
            _(
                "业务日期 %(d)s 早于最近一次完成的日终 %(last)s，不能执行日终批处理："
                "贷款已按 %(last)s 日终，按起息日重算属于后续的按起息日重放功能，此处不允许。"
            )
            % {"d": business_date.isoformat(), "last": last.isoformat()}
        )
    if chunk_size < 1:
        raise EodError(_("分片大小必须大于 0。"))
    classification_thresholds()  # fail early on a malformed setting
    done = EodRun.objects.filter(business_date=business_date, status=EodRun.Status.DONE).first()
    if done is not None:
        return done
    dates = dates_to_run(business_date)
    if not inline:
        return start_run(dates[0], until=business_date, actor=actor, chunk_size=chunk_size)
    run: EodRun | None = None
    for day in dates:
        run = _prepare_run(day, actor=actor, chunk_size=chunk_size)
        if run.status == EodRun.Status.DONE:
            continue
        for chunk_id in (
            run.chunks.exclude(status="done").order_by("first_loan_id").values_list("id", flat=True)
        ):
            try:
                process_chunk(chunk_id)
            except Exception as exc:
                EodRun.objects.filter(pk=run.pk).update(
                    status=EodRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
                )
                run.refresh_from_db()
                return run
            if progress is not None:
                run.refresh_from_db()
                progress(run)
        run.refresh_from_db()
        if run.status != EodRun.Status.DONE:
            return run
    assert run is not None
    return run


def _prepare_run(business_date: dt.date, *, actor: Any, chunk_size: int) -> EodRun:
    """Create the run and its chunks for a date (or resume a RUNNING/FAILED one)."""
    with transaction.atomic():
        run, created = EodRun.objects.select_for_update().get_or_create(
            business_date=business_date,
            defaults={
                "started_by": actor if getattr(actor, "is_authenticated", False) else None,
                "counts": _empty_counts(),
            },
        )
        if not created:
            if run.status == EodRun.Status.FAILED:
                run.status, run.error = EodRun.Status.RUNNING, ""
                run.chunks.filter(status="failed").update(status="pending")
                run.save(update_fields=["status", "error"])
            return run
        ids = list(
            Loan.objects.filter(status__in=OPEN_STATES).order_by("id").values_list("id", flat=True)
        )
        chunks = [
            EodChunk(
                run=run, first_loan_id=ids[i], last_loan_id=ids[min(i + chunk_size, len(ids)) - 1]
            )
            for i in range(0, len(ids), chunk_size)
        ]
        EodChunk.objects.bulk_create(chunks)
        run.chunks_total, run.loans_total = len(chunks), len(ids)
        if not chunks:
            run.status, run.finished_at = EodRun.Status.DONE, timezone.now()
            done = run
            transaction.on_commit(lambda: _emit_done(done))
        run.save()
        audit_record(
            action="lending.eod_start",
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            obj=run,
            metadata={"business_date": business_date.isoformat(), "chunks": len(chunks)},
        )
    return run


def start_run(
    business_date: dt.date, *, until: dt.date, actor: Any = None, chunk_size: int = 5000
) -> EodRun:
    """Queue the chunks of one date; when it is DONE the next date up to ``until`` follows."""
    from credo.lending.tasks import eod_chunk

    run = _prepare_run(business_date, actor=actor, chunk_size=chunk_size)
    if until > business_date:
        EodRun.objects.filter(pk=run.pk).update(
            counts={**(run.counts or {}), "_until": until.isoformat(), "_chunk_size": chunk_size}
        )
    if run.status == EodRun.Status.DONE:
        return _advance(run) or run
    for chunk_id in run.chunks.exclude(status="done").values_list("id", flat=True):
        eod_chunk.enqueue(chunk_id)
    run.refresh_from_db()
    return run


def _advance(run: EodRun) -> EodRun | None:
    """After a queued run finished: start the next missed day, if any."""
    until = (run.counts or {}).get("_until")
    if not until:
        return None
    target = dt.date.fromisoformat(until)
    nxt = run.business_date + dt.timedelta(days=1)
    if nxt > target:
        return None
    return start_run(
        nxt, until=target, actor=run.started_by, chunk_size=int(run.counts.get("_chunk_size", 5000))
    )


# ---------------------------------------------------------------------------------------------
# Chunks
# ---------------------------------------------------------------------------------------------


def process_chunk(chunk_id: int) -> dict[str, int]:
    """Process one chunk in its own transaction; returns its counts (a done chunk: unchanged).

    The claim (who, when, which attempt) is committed before that transaction: a worker killed
    inside it loses all the chunk's work (rolled back with its connection) but leaves the record
    of who held it. Its task is taken back once the worker's lease lapses
    (``credo.core.scheduling.reaper``); running the chunk again is safe — a done chunk returns its
    counts, and loans already closed for the date are skipped — and a second claimant waits on
    the chunk's row lock, then finds it done."""
    EodChunk.objects.filter(pk=chunk_id).exclude(status="done").update(
        claimed_by=worker_identity()[:64], claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    events: list[tuple[str, Loan, dict[str, Any]]] = []
    finished_run: EodRun | None = None
    with transaction.atomic():
        chunk = EodChunk.objects.select_for_update().select_related("run").get(pk=chunk_id)
        if chunk.status == "done":
            return dict(chunk.counts)
        run = chunk.run
        counts = _process_range(
            run.business_date, chunk.first_loan_id, chunk.last_loan_id, events, run.started_by
        )
        chunk.status, chunk.processed, chunk.counts = "done", counts["loans"], counts
        chunk.finished_at = timezone.now()
        chunk.save(update_fields=["status", "processed", "counts", "finished_at"])
        run = EodRun.objects.select_for_update().get(pk=run.pk)
        merged = dict(run.counts or {})
        for key in COUNT_KEYS:
            merged[key] = int(merged.get(key, 0)) + counts[key]
        run.counts = merged
        run.chunks_done = F("chunks_done") + 1
        run.loans_done = F("loans_done") + counts["loans"]
        run.save(update_fields=["counts", "chunks_done", "loans_done"])
        run.refresh_from_db()
        if run.chunks_done >= run.chunks_total and run.status != EodRun.Status.DONE:
            run.status, run.finished_at = EodRun.Status.DONE, timezone.now()
            run.save(update_fields=["status", "finished_at"])
            audit_record(
                action="lending.eod_done",
                actor=None,
                obj=run,
                metadata={"business_date": run.business_date.isoformat(), "counts": merged},
            )
            finished_run = run
    _emit(events)
    if finished_run is not None:
        _emit_done(finished_run)
        _advance(finished_run)  # queued catch-up only (inline runs carry no "_until")
    return counts


def chunk_abandon(chunk_id: int, *, reason: str) -> None:
    """The reaper gave up on a chunk's task (its claims kept losing their worker): the chunk and
    its run are marked failed with the reason, so the run page says so and 重新执行 resumes it,
    instead of a run RUNNING forever."""
    with transaction.atomic():
        chunk = (
            EodChunk.objects.select_for_update()
            .select_related("run")
            .filter(pk=chunk_id)
            .exclude(status="done")
            .first()
        )
        if chunk is None:
            return
        chunk.status = "failed"
        chunk.save(update_fields=["status"])
        message = _("分片 %(a)s–%(b)s 未完成：%(reason)s") % {
            "a": chunk.first_loan_id,
            "b": chunk.last_loan_id,
            "reason": reason,
        }
        if EodRun.objects.filter(pk=chunk.run_id, status=EodRun.Status.RUNNING).update(
            status=EodRun.Status.FAILED, error=message[:2000]
        ):
            audit_record(
                action="lending.eod_chunk_abandoned",
                actor=None,
                obj=chunk.run,
                metadata={"chunk": chunk.pk, "claimed_by": chunk.claimed_by, "reason": reason},
            )


def _process_range(
    day: dt.date,
    first_id: int,
    last_id: int,
    events: list[tuple[str, Loan, dict[str, Any]]],
    actor: Any,
) -> dict[str, int]:
    counts = _empty_counts()
    thresholds = classification_thresholds()
    eligible = Loan.objects.filter(
        id__gte=first_id, id__lte=last_id, status__in=OPEN_STATES
    ).filter(Q(last_eod_date__isnull=True) | Q(last_eod_date__lt=day))
    locked = list(eligible.select_for_update().order_by("id").values_list("id", "grace_days"))
    if not locked:
        return counts
    counts["loans"] = len(locked)
    eligible_ids = eligible.values("id")
    in_range = Installment.objects.filter(
        loan_id__gte=first_id, loan_id__lte=last_id, loan_id__in=eligible_ids
    )
    # 1. set-based marking: SCHEDULED → DUE on/after the due date; → OVERDUE after the grace.
    counts["installments_due"] = in_range.filter(
        status=Installment.Status.SCHEDULED, due_date__lte=day
    ).update(status=Installment.Status.DUE)
    for grace in sorted({g for _id, g in locked}):
        counts["installments_overdue"] += in_range.filter(
            loan__grace_days=grace,
            status=Installment.Status.DUE,
            due_date__lt=day - dt.timedelta(days=grace),
        ).update(status=Installment.Status.OVERDUE)
    # 2. the loans that need per-loan work
    rows: dict[int, list[Installment]] = defaultdict(list)
    for inst in in_range.filter(status__in=UNPAID_DUE).order_by("loan_id", "period"):
        rows[inst.loan_id].append(inst)
    soon = day + dt.timedelta(days=PAID_OFF_SOON_DAYS)
    extra = set(
        eligible.filter(
            Q(dpd__gt=0)
            | Q(status=Loan.Status.OVERDUE)
            | ~Q(classification=Loan.Classification.NORMAL)
            | Q(maturity_date=soon)
        ).values_list("id", flat=True)
    )
    work_ids = set(rows) | extra
    loans = list(Loan.objects.filter(id__in=work_ids).order_by("id"))
    audit_changes: list[dict[str, Any]] = []
    changed_loans: list[Loan] = []
    changed_insts: dict[int, Installment] = {}
    for loan in loans:
        if _process_loan(
            loan,
            day,
            rows.get(loan.pk, []),
            counts,
            events,
            changed_insts,
            thresholds,
            actor,
            audit_changes,
        ):
            changed_loans.append(loan)
    _write_back(changed_insts.values(), changed_loans)
    eligible.update(last_eod_date=day)
    if audit_changes:
        # one audit entry per chunk listing every loan whose status/classification changed
        # (a per-loan entry would serialise the workers on the audit chain head)
        audit_record(
            action="loan.eod_status",
            actor=None,
            object_type="lending.loan",
            object_repr=f"EOD {day.isoformat()} [{first_id}–{last_id}]",
            metadata={"business_date": day.isoformat(), "loans": audit_changes},
        )
    return counts


INSTALLMENT_COLUMNS = (
    ("status", "text"),
    ("paid_on", "date"),
    ("penalty_due", "bigint"),
    ("penalty_paid", "bigint"),
    ("fee_paid", "bigint"),
    ("interest_paid", "bigint"),
    ("principal_paid", "bigint"),
)
LOAN_COLUMNS = (
    ("status", "text"),
    ("dpd", "integer"),
    ("classification", "text"),
    ("credit_balance", "bigint"),
    ("outstanding_principal", "bigint"),
    ("version", "integer"),
)


def _db_value(value: Any) -> Any:
    return value.fen if isinstance(value, Money) else value


def _write_back(insts: Iterable[Installment], loans: list[Loan]) -> None:
    """Write the per-loan results: on PostgreSQL one ``UPDATE … FROM unnest(arrays)`` per
    table (Django's ``bulk_update`` CASE expressions cost seconds per chunk); elsewhere
    ``bulk_update``."""
    batches: list[tuple[Any, list[Any], tuple[tuple[str, str], ...]]] = [
        (Installment, list(insts), INSTALLMENT_COLUMNS),
        (Loan, loans, LOAN_COLUMNS),
    ]
    for model, objs, columns in batches:
        if not objs:
            continue
        if connection.vendor != "postgresql":
            model.objects.bulk_update(objs, [c for c, _t in columns], batch_size=500)
            continue
        table = model._meta.db_table
        names = ", ".join(c for c, _t in columns)
        sets = ", ".join(f"{c} = v.{c}" for c, _t in columns)
        arrays = ", ".join(f"%s::{t}[]" for _c, t in columns)
        params = [[o.pk for o in objs]] + [
            [_db_value(getattr(o, c)) for o in objs] for c, _t in columns
        ]
        with connection.cursor() as cur:
            cur.execute(
                # table/column names are the constants above, never user input
                f"UPDATE {table} AS t SET {sets} FROM unnest(%s::bigint[], {arrays}) "  # noqa: S608
                f"AS v(id, {names}) WHERE t.id = v.id",
                params,
            )


def _process_loan(
    loan: Loan,
    day: dt.date,
    unpaid: list[Installment],
    counts: dict[str, int],
    events: list[tuple[str, Loan, dict[str, Any]]],
    changed_insts: dict[int, Installment],
    thresholds: tuple[int, int, int, int],
    actor: Any,
    audit_changes: list[dict[str, Any]],
) -> bool:
    """Credit, penalty, DPD, status and classification of one loan; True if the loan changed."""
    before = (loan.status, loan.dpd, loan.classification)
    changed = False
    if loan.credit_balance.fen > 0 and unpaid:
        applied = _apply_credit(loan, day, unpaid, changed_insts, actor)
        counts["credit_applied_fen"] += applied
        changed = changed or applied > 0
        unpaid = [i for i in unpaid if i.status != Installment.Status.PAID]
    overdue = [i for i in unpaid if i.status == Installment.Status.OVERDUE]
    if overdue:
        principal = sum(i.principal_due.fen - i.principal_paid.fen for i in overdue)
        penalty = penalty_for_day(loan, principal) if principal > 0 else 0
        if penalty > 0:
            oldest = overdue[0]
            oldest.penalty_due = Money.from_fen(oldest.penalty_due.fen + penalty)
            changed_insts[oldest.pk] = oldest
            counts["penalty_fen"] += penalty
        loan.dpd = (day - unpaid[0].due_date).days
    else:
        loan.dpd = 0
    if overdue:
        loan.status = Loan.Status.OVERDUE
    elif loan.status == Loan.Status.OVERDUE:
        loan.status = Loan.Status.ACTIVE
    if (
        loan.outstanding_principal.fen == 0
        and not unpaid
        and not loan.installments.exclude(status=Installment.Status.PAID).exists()
    ):
        loan.status = Loan.Status.PAID_OFF
        counts["paid_off"] += 1
    loan.classification = classify(loan.dpd, thresholds)
    after = (loan.status, loan.dpd, loan.classification)
    if loan.maturity_date == day + dt.timedelta(days=PAID_OFF_SOON_DAYS) and loan.status in (
        OPEN_STATES
    ):
        events.append(("paid_off_soon", loan, {"maturity_date": loan.maturity_date.isoformat()}))
    if after == before and not changed:
        return False
    for mark in DPD_MARKS:
        if before[1] < mark <= loan.dpd:
            events.append(("dpd_crossed", loan, {"dpd": loan.dpd, "mark": mark}))
    if before[0] != Loan.Status.OVERDUE and loan.status == Loan.Status.OVERDUE:
        counts["became_overdue"] += 1
        events.append(("became_overdue", loan, {"dpd": loan.dpd, "date": day.isoformat()}))
    if before[1] > 0 and loan.dpd == 0:
        counts["cured"] += 1
    if before[2] != loan.classification:
        counts["classification_changes"] += 1
    if before[0] != loan.status or before[2] != loan.classification:
        loan.version += 1
        _record_change(loan, day, before, audit_changes)
    return True


def _record_change(
    loan: Loan,
    day: dt.date,
    before: tuple[str, int, str],
    audit_changes: list[dict[str, Any]],
) -> None:
    old_status = Loan.Status(before[0]).label
    old_class = Loan.Classification(before[2]).label
    audit_changes.append(
        {
            "loan": loan.pk,
            "number": loan.number,
            "dpd": loan.dpd,
            **{
                k: [b, a]
                for k, b, a in (
                    ("status", before[0], loan.status),
                    ("classification", before[2], loan.classification),
                )
                if b != a
            },
        }
    )
    worse = loan.status == Loan.Status.OVERDUE or loan.classification != "normal"
    record_event(
        customer=Customer(pk=loan.customer_id),  # only the FK is needed; no decrypting load
        kind="alert" if worse else "other",
        source="lending",
        obj=loan,
        title=_(
            "贷款 %(n)s 日终（%(d)s）：%(s0)s → %(s1)s，五级分类 %(c0)s → %(c1)s，逾期 %(dpd)s 天"
        )
        % {
            "n": loan.number,
            "d": day.isoformat(),
            "s0": old_status,
            "s1": loan.get_status_display(),
            "c0": old_class,
            "c1": loan.get_classification_display(),
            "dpd": loan.dpd,
        },
        detail={"dpd": loan.dpd, "status": loan.status, "classification": loan.classification},
    )


def _apply_credit(
    loan: Loan,
    day: dt.date,
    unpaid: list[Installment],
    changed_insts: dict[int, Installment],
    actor: Any,
) -> int:
    """溢缴款冲抵: the loan's credit balance pays due installments with the repayment order;
    posted as debit customer_credit / credit the components. Returns fen applied."""
    plan = allocation_preview(loan, loan.credit_balance.fen, day, unpaid)
    used = loan.credit_balance.fen - plan["credit"]
    if used <= 0:
        return 0
    by_id = {i.pk: i for i in unpaid}
    for part in plan["installments"]:
        inst = by_id[part["installment"]]
        _apply(inst, part, +1)
        if all(v == 0 for v in _due_components(inst).values()):
            inst.status, inst.paid_on = Installment.Status.PAID, day
        changed_insts[inst.pk] = inst
    t = plan["totals"]
    ledger.post_entry(
        loan=loan,
        kind=JournalEntry.Kind.REPAYMENT,
        business_date=day,
        actor=actor,
        memo=f"溢缴款冲抵 {loan.number}",
        lines=[
            ("customer_credit", used, 0),
            ("loan_principal", 0, t["principal"]),
            ("interest_income", 0, t["interest"]),
            ("penalty_income", 0, t["penalty"]),
            ("fee_income", 0, t["fee"]),
        ],
    )
    loan.credit_balance = Money.from_fen(plan["credit"])
    loan.outstanding_principal = Money.from_fen(loan.outstanding_principal.fen - t["principal"])
    return used
