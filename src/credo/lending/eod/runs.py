"""Runs and chunks of the close of business: catching up missed dates, preparing a date's
chunks, processing one chunk in its own transaction, abandoning a chunk whose worker died."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.parallel import Outcome, default_workers, run_units
from credo.core.scheduling.reaper import worker_identity
from credo.lending.eod.closing import process_range
from credo.lending.eod.common import (
    COUNT_KEYS,
    EodError,
    classification_thresholds,
    empty_counts,
)
from credo.lending.eod.jobs import jobs_enqueue, jobs_run_inline, jobs_settled
from credo.lending.models import EodChunk, EodRun, Loan
from credo.lending.states import LOAN_OPEN_STATES

# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------


def eod_workers() -> int:
    """Threads of an inline close (``CREDO_EOD_WORKERS``; 0: one per CPU core, at most 4)."""
    return default_workers("CREDO_EOD_WORKERS")


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
    workers: int | None = None,
) -> EodRun:
    """Run (or catch up to) the close of business for ``business_date``; returns its run.

    Each date's after-close jobs (:mod:`credo.lending.eod.jobs`) run once its run is DONE and
    before the next missed date starts, so every job sees each date's book. A DONE run for the
    date is returned as it is, except that its jobs not yet DONE (failed, interrupted, newly
    registered) are run again (re-running the last completed date changes nothing else). A date before the last completed close is refused: the loans already stand at the
    later date, so running it would back-date their marking and write that date's report
    snapshot from today's book; recomputing from a past value date is the value-dated replay's
    job, not the close's. With ``inline`` the chunks are processed here, one transaction each;
    otherwise they are enqueued as ``eod_chunk`` tasks, then the jobs as ``eod_job`` tasks, and
    the missed days are chained (the next day starts when the previous one is DONE and its jobs
    have finished). A failing job never fails the run.

    Inline, the chunks and then the after-close jobs run on ``workers`` threads of this process
    (default ``CREDO_EOD_WORKERS``: one per CPU core, at most 4; one thread on SQLite or inside
    a transaction — :mod:`credo.core.parallel`), as they would on that many task workers."""
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
    if workers is None:
        workers = eod_workers()
    elif workers < 1:
        raise EodError(_("并行线程数必须大于 0。"))
    classification_thresholds()  # fail early on a malformed setting
    done = EodRun.objects.filter(business_date=business_date, status=EodRun.Status.DONE).first()
    if done is not None:
        if inline:
            jobs_run_inline(done, workers=workers)
        else:
            jobs_enqueue(done)
        return done
    if last is None:
        catch_up_first_close(business_date, actor=actor)
    dates = dates_to_run(business_date)
    if not inline:
        return start_run(dates[0], until=business_date, actor=actor, chunk_size=chunk_size)
    run: EodRun | None = None
    for day in dates:
        run = _prepare_run(day, actor=actor, chunk_size=chunk_size)
        if run.status == EodRun.Status.DONE:
            jobs_run_inline(run, workers=workers)
            continue
        failed = _close_chunks(run, workers, progress)
        if failed is not None:
            return failed
        run.refresh_from_db()
        if run.status != EodRun.Status.DONE:
            return run
        jobs_run_inline(run, workers=workers)
    assert run is not None
    return run


def _close_chunks(
    run: EodRun, workers: int, progress: Callable[[EodRun], None] | None
) -> EodRun | None:
    """The run's open chunks on ``workers`` threads (each chunk its own transaction, as on
    several task workers); the first failure stops the others from starting and fails the run
    (returned; None when every chunk ran)."""
    pending = list(
        run.chunks.exclude(status=EodChunk.Status.DONE)
        .order_by("first_loan_id")
        .values_list("id", flat=True)
    )

    def report(outcome: Outcome[int, dict[str, int]]) -> None:
        if progress is not None and outcome.error is None:
            run.refresh_from_db()
            progress(run)

    outcomes = run_units(
        pending,
        functools.partial(process_chunk, queue_jobs=False),
        workers=workers,
        on_result=report,
    )
    failed = next((o.error for o in outcomes if o.error is not None), None)
    if failed is None:
        return None
    fsm.transition_queryset(
        EodRun.objects.filter(pk=run.pk),
        EodRun.Status.FAILED,
        error=f"{type(failed).__name__}: {failed}"[:2000],
    )
    run.refresh_from_db()
    return run


def catch_up_first_close(business_date: dt.date, *, actor: Any = None) -> int:
    """The first close of business on a database (no completed run yet): each open loan that
    started before ``business_date`` is first replayed from its own start date to the day
    before (a loan 538 days overdue gets its 538 days of 罚息, not one). Idempotent: loans
    already brought to that day are skipped. Returns the number of loans caught up."""
    from credo.lending.replay.service import replay_loans

    day_before = business_date - dt.timedelta(days=1)
    ids = list(
        Loan.objects.filter(status__in=LOAN_OPEN_STATES, start_date__lt=business_date)
        .filter(Q(last_eod_date__isnull=True) | Q(last_eod_date__lt=day_before))
        .order_by("id")
        .values_list("id", flat=True)
    )
    if ids:
        replay_loans(ids, day_before, actor, _("首次日终：自各贷款起息日追补"))
    return len(ids)


def rerun_from(day: dt.date, *, actor: Any, reason: str) -> int:
    """从某日重算: replay (never rewrite) the open loans with money events on or after ``day``
    up to their last close; posted entries stay, differences are 倒起息调整 entries dated today.
    Returns the number of loans replayed."""
    from credo.lending.models import LoanWaiver, Posting
    from credo.lending.replay.service import replay_loans

    reason = (reason or "").strip()
    if not reason:
        raise EodError(_("请填写重算原因。"))
    last = last_done_date()
    if last is None or day > last:
        raise EodError(_("重算起始日必须不晚于最近一次完成的日终日期。"))
    open_loans = Loan.objects.filter(status__in=LOAN_OPEN_STATES)
    ids = sorted(
        set(
            Posting.objects.filter(
                loan__in=open_loans, received_on__gte=day, reversed_at__isnull=True
            ).values_list("loan_id", flat=True)
        )
        | set(
            LoanWaiver.objects.filter(loan__in=open_loans, value_date__gte=day).values_list(
                "loan_id", flat=True
            )
        )
    )
    with transaction.atomic():
        if ids:
            replay_loans(
                ids, None, actor, _("从 %(d)s 重算：%(r)s") % {"d": day, "r": reason}, from_date=day
            )
        audit_record(
            action="lending.eod_rerun_from",
            actor=actor,
            object_type="lending.eodrun",
            object_repr=f"EOD rerun from {day.isoformat()}",
            metadata={"from": day.isoformat(), "reason": reason, "loans": len(ids)},
        )
    return len(ids)


def _prepare_run(business_date: dt.date, *, actor: Any, chunk_size: int) -> EodRun:
    """Create the run and its chunks for a date (or resume a RUNNING/FAILED one)."""
    with transaction.atomic():
        run, created = EodRun.objects.select_for_update().get_or_create(
            business_date=business_date,
            defaults={
                "started_by": actor if getattr(actor, "is_authenticated", False) else None,
                "counts": empty_counts(),
            },
        )
        if not created:
            if run.status == EodRun.Status.FAILED:
                run.error = ""
                fsm.transition(run, EodRun.Status.RUNNING, update_fields=("error",))
                fsm.transition_queryset(
                    run.chunks.all(), EodChunk.Status.PENDING, sources=[EodChunk.Status.FAILED]
                )
            return run
        ids = list(
            Loan.objects.filter(status__in=LOAN_OPEN_STATES)
            .order_by("id")
            .values_list("id", flat=True)
        )
        chunks = [
            EodChunk(
                run=run, first_loan_id=ids[i], last_loan_id=ids[min(i + chunk_size, len(ids)) - 1]
            )
            for i in range(0, len(ids), chunk_size)
        ]
        EodChunk.objects.bulk_create(chunks)
        run.chunks_total, run.loans_total = len(chunks), len(ids)
        if not chunks:  # nothing open: done at once (its jobs still run, by the caller)
            run.finished_at = timezone.now()
            fsm.transition(run, EodRun.Status.DONE, save=False)
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
    """Queue the chunks of one date; when it is DONE its jobs are queued, and once they have
    finished the next date up to ``until`` follows."""
    from credo.lending.tasks import eod_chunk

    run = _prepare_run(business_date, actor=actor, chunk_size=chunk_size)
    if until > business_date:
        EodRun.objects.filter(pk=run.pk).update(
            counts={**(run.counts or {}), "_until": until.isoformat(), "_chunk_size": chunk_size}
        )
    if run.status == EodRun.Status.DONE:
        queued = jobs_enqueue(run)
        if not queued:
            return _advance(run) or run
        run.refresh_from_db()
        return run
    for chunk_id in run.chunks.exclude(status=EodChunk.Status.DONE).values_list("id", flat=True):
        eod_chunk.enqueue(chunk_id)
    run.refresh_from_db()
    return run


def _advance(run: EodRun) -> EodRun | None:
    """After a queued run and its jobs finished: start the next missed day, if any (once)."""
    until = (run.counts or {}).get("_until")
    if not until:
        return None
    with transaction.atomic():
        locked = EodRun.objects.select_for_update().get(pk=run.pk)
        if (locked.counts or {}).get("_advanced"):
            return None
        locked.counts = {**(locked.counts or {}), "_advanced": True}
        locked.save(update_fields=["counts"])
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


def process_chunk(chunk_id: int, *, queue_jobs: bool = True) -> dict[str, int]:
    """Process one chunk in its own transaction; returns its counts (a done chunk: unchanged).

    The worker finishing a run's last chunk queues the run's after-close jobs (``queue_jobs``;
    the inline :func:`run_eod` runs them itself).

    The claim (who, when, which attempt) is committed before that transaction: a worker killed
    inside it loses all the chunk's work (rolled back with its connection) but leaves the record
    of who held it. Its task is taken back once the worker's lease lapses
    (``credo.core.scheduling.reaper``); running the chunk again is safe — a done chunk returns its
    counts, and loans already closed for the date are skipped. Claims use ``SKIP LOCKED``: a
    second claimant (a duplicate task, another worker, an inline resume) finds the chunk held and
    returns at once with empty counts instead of waiting — no chunk is ever processed twice, and
    if its holder dies its own task is re-queued by the reaper."""
    done_or_held = EodChunk.objects.filter(pk=chunk_id)
    with transaction.atomic():
        claim = (
            EodChunk.objects.select_for_update(skip_locked=True)
            .filter(pk=chunk_id)
            .exclude(status=EodChunk.Status.DONE)
            .first()
        )
        if claim is not None:
            claim.claimed_by, claim.claimed_at = worker_identity()[:64], timezone.now()
            claim.attempts = F("attempts") + 1
            claim.save(update_fields=["claimed_by", "claimed_at", "attempts"])
    if claim is None:
        done = done_or_held.filter(status=EodChunk.Status.DONE).first()
        return dict(done.counts) if done is not None else empty_counts()
    finished_run: EodRun | None = None
    with transaction.atomic():
        chunk = (
            # of=self: the joined run row is locked only briefly at the end (chunks of a run
            # run in parallel on several workers)
            EodChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("run")
            .filter(pk=chunk_id)
            .first()
        )
        if chunk is None:  # claimed by another worker in between
            return empty_counts()
        if chunk.status == EodChunk.Status.DONE:
            return dict(chunk.counts)
        run = chunk.run
        counts = process_range(
            run.business_date, chunk.first_loan_id, chunk.last_loan_id, run.started_by
        )
        chunk.processed, chunk.counts = counts["loans"], counts
        chunk.finished_at = timezone.now()
        fsm.transition(
            chunk, EodChunk.Status.DONE, update_fields=("processed", "counts", "finished_at")
        )
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
            run.finished_at = timezone.now()
            fsm.transition(run, EodRun.Status.DONE, update_fields=("finished_at",))
            audit_record(
                action="lending.eod_done",
                actor=None,
                obj=run,
                metadata={"business_date": run.business_date.isoformat(), "counts": merged},
            )
            finished_run = run
    if finished_run is not None and queue_jobs:
        queued = jobs_enqueue(finished_run)
        if not queued:
            _advance(finished_run)  # queued catch-up only (inline runs carry no "_until")
    return counts


def job_finished(job_id: int) -> None:
    """A queued job ended (done, or failed with no automatic retry left): once all the run's
    jobs have, a queued catch-up starts the next missed day."""
    run = EodRun.objects.filter(jobs__pk=job_id).first()
    if run is not None and jobs_settled(run):
        _advance(run)


def chunk_abandon(chunk_id: int, *, reason: str) -> None:
    """The reaper gave up on a chunk's task (its claims kept losing their worker): the chunk and
    its run are marked failed with the reason, so the run page says so and 重新执行 resumes it,
    instead of a run RUNNING forever."""
    with transaction.atomic():
        chunk = (
            EodChunk.objects.select_for_update(of=("self",))
            .select_related("run")
            .filter(pk=chunk_id)
            .exclude(status=EodChunk.Status.DONE)
            .first()
        )
        if chunk is None:
            return
        fsm.transition(chunk, EodChunk.Status.FAILED, allow_same=True)
        message = _("分片 %(a)s–%(b)s 未完成：%(reason)s") % {
            "a": chunk.first_loan_id,
            "b": chunk.last_loan_id,
            "reason": reason,
        }
        if fsm.transition_queryset(
            EodRun.objects.filter(pk=chunk.run_id),
            EodRun.Status.FAILED,
            sources=[EodRun.Status.RUNNING],
            error=message[:2000],
        ):
            audit_record(
                action="lending.eod_chunk_abandoned",
                actor=None,
                obj=chunk.run,
                metadata={"chunk": chunk.pk, "claimed_by": chunk.claimed_by, "reason": reason},
            )


# ---------------------------------------------------------------------------------------------
# Dead workers under RQ
# ---------------------------------------------------------------------------------------------


def _lease_lapsed(cutoff: dt.datetime) -> Callable[[str], bool]:
    """worker id → whether it stopped renewing its lease (stopped, or silent since ``cutoff``)."""
    from credo.core.scheduling.models import WorkerLease

    def lapsed(worker_id: str) -> bool:
        lease = WorkerLease.objects.filter(pk=worker_id).first()
        return lease is None or lease.stopped_at is not None or lease.heartbeat_at < cutoff

    return lapsed


def eod_sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Re-deliver the close-of-business work a dead worker held.

    Under the database queue the reaper takes back a dead worker's task row; under RQ there is
    no row to take back (RQ moves the job to its failed registry as abandoned), so a chunk or
    an after-close job claimed by a worker that died stayed 运行中 for good. Here: a chunk not
    done (or a job still running) whose claimant's lease lapsed ``CREDO_TASK_LEASE_SECONDS``
    ago, and whose row nobody holds (``SKIP LOCKED``: the dead worker's transaction was rolled
    back with its connection), is queued again — or, after ``CREDO_TASK_MAX_ATTEMPTS`` claims,
    given up with the reason (the run page shows it and 重新执行 resumes it). Safe next to the
    reaper: a chunk or job runs at most once (row locks, DONE is final)."""
    from credo.core.scheduling.reaper import lease_seconds
    from credo.lending.eod.jobs import enqueue_job, job_abandon, max_attempts
    from credo.lending.models import EodJob
    from credo.lending.tasks import eod_chunk

    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=lease_seconds())
    lapsed = _lease_lapsed(cutoff)
    out = {"chunks_requeued": 0, "chunks_abandoned": 0, "jobs_requeued": 0, "jobs_abandoned": 0}
    candidates = EodChunk.objects.filter(
        run__status=EodRun.Status.RUNNING, claimed_at__lt=cutoff
    ).exclude(Q(status=EodChunk.Status.DONE) | Q(claimed_by=""))
    for chunk_id, holder in list(candidates.values_list("id", "claimed_by")):
        if not lapsed(holder):
            continue
        requeue = False
        with transaction.atomic():
            chunk = (
                EodChunk.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=chunk_id, claimed_by=holder)
                .exclude(status=EodChunk.Status.DONE)
                .first()
            )
            if chunk is None:
                continue
            reason = _("处理该分片的工作进程 %(w)s 已停止（租约过期）") % {"w": holder}
            if chunk.attempts >= max_attempts():
                out["chunks_abandoned"] += 1
            else:
                # the claim is handed back; the next delivery claims it afresh
                EodChunk.objects.filter(pk=chunk_id).update(claimed_by="", claimed_at=now)
                requeue = True
                out["chunks_requeued"] += 1
        if requeue:
            eod_chunk.enqueue(chunk_id)
        else:
            chunk_abandon(chunk_id, reason=reason)
    jobs = EodJob.objects.filter(status=EodJob.Status.RUNNING, started_at__lt=cutoff).exclude(
        claimed_by=""
    )
    for job_id, holder in list(jobs.values_list("id", "claimed_by")):
        if not lapsed(holder):
            continue
        with transaction.atomic():
            job = (
                EodJob.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=job_id, claimed_by=holder, status=EodJob.Status.RUNNING)
                .first()
            )
            if job is None:
                continue
            # the lost delivery was an attempt (its own count rolled back with the worker)
            give_up = job.attempts + 1 >= max_attempts()
            if not give_up:
                EodJob.objects.filter(pk=job_id).update(claimed_by="", attempts=F("attempts") + 1)
        if give_up:
            job_abandon(job_id, reason=_("执行该作业的工作进程 %(w)s 已停止") % {"w": holder})
            job_finished(job_id)
            out["jobs_abandoned"] += 1
        else:
            enqueue_job(job_id)
            out["jobs_requeued"] += 1
    if any(out.values()):
        audit_record(
            action="lending.eod_sweep",
            actor=None,
            object_type="lending.eodrun",
            object_repr="EOD sweep",
            metadata=out,
        )
    return out
