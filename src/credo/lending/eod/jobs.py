"""The after-close pipeline (日终后续作业): the jobs run once a business date's run is DONE.

The close of business only marks the day. When its run becomes DONE, one :class:`EodJob` per
registered job (:func:`credo.lending.eod.register_after_close_job`) is created and run — inline
(started in ``order`` on the close's threads, :func:`jobs_run_inline`), or as one
``credo.lending.tasks.eod_job`` task each (several workers run them in parallel). The jobs depend
on the close only, never on one another. Each job has its own status, attempts, duration, result
and error; one failing never fails the run nor blocks the others.

Claiming a job (safe with any number of workers, and with an inline resume at the same time):

1. the claim is committed first — ``SELECT … FOR UPDATE SKIP LOCKED`` on the job row, status →
   running, ``claimed_by``/``started_at`` — so the page shows who runs it;
2. the work runs in a second transaction that holds the job's row lock (again ``SKIP LOCKED``:
   a second claimant finds it locked and leaves it, or — after the first finished — finds it
   DONE). The job's own writes are in a savepoint: an exception rolls back only them and marks
   the job FAILED with the error. A worker killed inside rolls everything back and leaves the
   job running with its claim; the task reaper re-queues the task, whose claimant then takes the
   lock, sees "not done" and runs it again (jobs are idempotent per business date).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.core.parallel import run_units
from credo.core.scheduling.reaper import worker_identity
from credo.lending.eod.common import AfterCloseJob, after_close_job_list, after_close_jobs
from credo.lending.models import EodJob, EodRun

logger = logging.getLogger("credo.lending.eod")

J = EodJob.Status
OPEN_JOB_STATES = (J.PENDING, J.RUNNING, J.FAILED)

# Display names of counts jobs commonly return (a job's own ``result_labels`` come first).
COMMON_RESULT_LABELS: dict[str, Any] = {
    "loans": gettext_lazy("贷款"),
    "cases": gettext_lazy("案件"),
    "opened": gettext_lazy("新开案件"),
    "closed": gettext_lazy("结案"),
    "retiered": gettext_lazy("调整层级"),
    "reassigned": gettext_lazy("重新分配"),
    "messages": gettext_lazy("消息"),
    "sent": gettext_lazy("已发送"),
    "queued": gettext_lazy("已入队"),
    "suppressed": gettext_lazy("已拦截"),
    "reminders": gettext_lazy("还款提醒"),
    "rows": gettext_lazy("行数"),
    "snapshots": gettext_lazy("快照"),
}


def max_attempts() -> int:
    """Automatic attempts of a queued job (the task setting ``CREDO_TASK_MAX_ATTEMPTS``)."""
    return int(getattr(settings, "CREDO_TASK_MAX_ATTEMPTS", 3))


def jobs_ensure(run: EodRun) -> list[int]:
    """The run's job rows (one per registered job, created if missing); returns the ids of those
    not DONE, in run order. A DONE job is never run again."""
    registered = after_close_job_list()
    EodJob.objects.bulk_create(
        [EodJob(run=run, key=j.key, order=j.order) for j in registered],
        ignore_conflicts=True,
    )
    keys = [j.key for j in registered]
    rows = dict(
        EodJob.objects.filter(run=run, key__in=keys).exclude(status=J.DONE).values_list("key", "id")
    )
    return [rows[k] for k in keys if k in rows]


def jobs_run_inline(run: EodRun, *, workers: int = 1) -> list[EodJob]:
    """Run the run's open jobs in this process, started in run order on ``workers`` threads
    (the jobs are independent of one another, as on several task workers); each isolated (its
    failure is recorded on it). Returns the jobs in run order."""
    ids = jobs_ensure(run)
    outcomes = run_units(ids, job_execute, workers=workers, stop_on_error=False)
    by_id = {o.item: o for o in outcomes}
    done: list[EodJob] = []
    for job_id in ids:
        outcome = by_id.get(job_id)
        if outcome is None:
            continue
        if outcome.error is not None:
            raise outcome.error
        if outcome.result is not None:
            done.append(outcome.result)
    return done


def jobs_enqueue(run: EodRun) -> int:
    """Queue one ``eod_job`` task per open job of the run (at once outside a transaction, else
    after the caller's commit: a worker must find the job row)."""
    ids = jobs_ensure(run)
    for job_id in ids:
        transaction.on_commit(functools.partial(enqueue_job, job_id))
    return len(ids)


def enqueue_job(job_id: int, *, delay_seconds: int = 0) -> None:
    from django_tasks import default_task_backend

    from credo.lending.tasks import eod_job

    task = eod_job
    if "batch" in getattr(default_task_backend, "queues", set()):
        task = task.using(queue_name="batch")
    if delay_seconds and getattr(default_task_backend, "supports_defer", False):
        task = task.using(run_after=timezone.now() + dt.timedelta(seconds=delay_seconds))
    task.enqueue(job_id)


def _json_result(result: Mapping[str, Any] | None) -> dict[str, Any]:
    if not result:
        return {}
    if not isinstance(result, Mapping):
        return {}
    data: dict[str, Any] = json.loads(json.dumps(dict(result), default=str))
    return data


def job_execute(job_id: int) -> EodJob | None:
    """Run one job (claim, then work under its row lock); returns it, or None when another
    worker holds it right now. A DONE job is returned unchanged (never run twice)."""
    with transaction.atomic():
        # of=self: EodJob's default ordering joins the run, whose row FOR UPDATE would lock
        # too — a sibling job claimed at the same moment (another worker, another thread)
        # would find the run row locked and be skipped as if it were held
        job = (
            EodJob.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=job_id)
            .first()
        )
        if job is None:
            return None
        if job.status == J.DONE:
            return job
        job.claimed_by = worker_identity()[:64]
        job.started_at = timezone.now()
        job.finished_at = None
        fsm.transition(
            job,
            J.RUNNING,
            allow_same=True,
            update_fields=("claimed_by", "started_at", "finished_at"),
        )
    try:
        return _job_work(job_id)
    except Exception as exc:  # the work transaction itself broke (connection lost, …)
        logger.exception("after-close job %s could not record its outcome", job_id)
        with transaction.atomic():
            job = EodJob.objects.select_for_update().get(pk=job_id)
            if job.status == J.RUNNING:
                job.error = f"{type(exc).__name__}: {exc}"[:4000]
                job.finished_at = timezone.now()
                fsm.transition(job, J.FAILED, update_fields=("error", "finished_at"))
        return job


def _job_work(job_id: int) -> EodJob | None:
    with transaction.atomic():
        job = (
            # of=self: the joined run row stays unlocked (jobs of a run run in parallel)
            EodJob.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("run")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.status == J.DONE:
            return job
        spec: AfterCloseJob | None = after_close_jobs.get(job.key)
        job.attempts += 1
        started = time.perf_counter()
        error = ""
        result: dict[str, Any] = {}
        if spec is None:
            error = _("作业“%(k)s”未注册（应用未安装或已移除）。") % {"k": job.key}
        else:
            try:
                with transaction.atomic():
                    result = _json_result(spec.fn(job.run))
            except Exception as exc:  # noqa: BLE001 — a job's failure is recorded on the job
                logger.exception("after-close job %s of %s failed", job.key, job.run)
                error = f"{type(exc).__name__}: {exc}"[:4000]
        seconds = time.perf_counter() - started
        job.finished_at = timezone.now()
        job.duration = dt.timedelta(seconds=seconds)
        job.result, job.error = result, error
        fsm.transition(
            job,
            J.FAILED if error else J.DONE,
            update_fields=("attempts", "finished_at", "duration", "result", "error"),
        )
        audit_record(
            action="lending.eod_job_failed" if error else "lending.eod_job_done",
            actor=None,
            obj=job.run,
            metadata={
                "business_date": job.run.business_date.isoformat(),
                "job": job.key,
                "attempt": job.attempts,
                "ms": int(seconds * 1000),
                **({"error": error[:500]} if error else {"result": result}),
            },
        )
    return job


def job_retry(job: EodJob, *, actor: Any, inline: bool) -> EodJob | None:
    """重试 a FAILED job (the run page): audited; run here or queued."""
    with transaction.atomic():
        locked = EodJob.objects.select_for_update(of=("self",)).select_related("run").get(pk=job.pk)
        fsm.transition(
            locked,
            J.PENDING,
            actor=actor,
            action="lending.eod_job_retry",
            metadata={
                "business_date": locked.run.business_date.isoformat(),
                "job": locked.key,
                "attempts": locked.attempts,
            },
        )
        if not inline:
            transaction.on_commit(lambda: enqueue_job(locked.pk))
    if inline:
        return job_execute(locked.pk)
    locked.refresh_from_db()
    return locked


def job_retry_later(job: EodJob) -> bool:
    """A queued job that failed with automatic attempts left goes back to pending (its error
    kept for the page) and is queued again after a pause (30 s × attempts, when the backend
    can defer). False when no attempt is left: the job stays FAILED until 重试."""
    if job.status != J.FAILED or job.attempts >= max_attempts():
        return False
    if not fsm.transition_queryset(EodJob.objects.filter(pk=job.pk), J.PENDING, sources=[J.FAILED]):
        return False
    enqueue_job(job.pk, delay_seconds=30 * job.attempts)
    return True


def jobs_settled(run: EodRun) -> bool:
    """Every job of the run ended: DONE, or FAILED with no automatic retry left."""
    return not run.jobs.filter(status__in=(J.PENDING, J.RUNNING)).exists()


def job_abandon(job_id: int, *, reason: str) -> None:
    """The reaper gave up on a job's task (its claims kept losing their worker)."""
    with transaction.atomic():
        job = (
            EodJob.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=job_id, status__in=(J.PENDING, J.RUNNING))
            .first()
        )
        if job is None:
            return
        job.error = (_("作业未完成：%(reason)s") % {"reason": reason})[:4000]
        job.finished_at = timezone.now()
        fsm.transition(job, J.FAILED, update_fields=("error", "finished_at"))
