"""Leases on claimed tasks: worker heartbeats and the reaper of stale claims.

django-tasks-db claims a task by setting it RUNNING, stamping ``started_at`` and appending the
worker's id to ``worker_ids``; nothing in it ever takes a RUNNING task back, so a worker killed
inside a task (OOM killer, SIGKILL, a lost host) left it RUNNING forever. Each ``credo worker``
therefore holds a lease, its :class:`WorkerLease` row, renewed by a heartbeat thread. A RUNNING
task whose claim is older than ``CREDO_TASK_LEASE_SECONDS`` and whose worker has not renewed its
lease within that time (or never had one) is *stale*: the page shows it as 疑似卡住 and the
reaper takes it back — re-queued (READY again, the same row and id) while its claims are below
``CREDO_TASK_MAX_ATTEMPTS``, otherwise FAILED with the reason. Each reap is one conditional
``UPDATE … WHERE status = 'RUNNING' AND started_at = <the claim seen>``, so two reapers (every
worker reaps, and so does a schedule) cannot both retry one claim, and a claim renewed by a new
worker in between is left alone. Tasks must be idempotent (at-least-once delivery); the close of
business chunks are (``credo.lending.eod.process_chunk``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tasks_db.models import DBTaskResult

from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.core.registry import Registry
from credo.core.scheduling import states  # noqa: F401  (registers the task status machine)
from credo.core.scheduling.backends import uses_rq
from credo.core.scheduling.models import TaskReap, WorkerLease

logger = logging.getLogger("credo.scheduling")

LEASE_EXPIRED = "credo.core.scheduling.reaper.LeaseExpired"


class LeaseExpired(Exception):  # noqa: N818 - the name is what the task page shows
    """Recorded as the exception class of a task failed by the reaper."""


def lease_seconds() -> int:
    return int(getattr(settings, "CREDO_TASK_LEASE_SECONDS", 600))


def max_attempts() -> int:
    return int(getattr(settings, "CREDO_TASK_MAX_ATTEMPTS", 3))


def heartbeat_interval() -> float:
    """Five renewals fit in one lease, so a few slow ones never make a live worker stale."""
    return max(1.0, min(60.0, lease_seconds() / 5))


def reap_interval() -> float:
    return max(30.0, lease_seconds() / 4)


# ---------------------------------------------------------------------------------------------
# Worker identity and lease
# ---------------------------------------------------------------------------------------------

_current_worker: str | None = None


def new_worker_id() -> str:
    """``host:pid:random`` (≤ 64 characters, django-tasks-db's limit): the task page then says
    which machine and process held a claim."""
    host = socket.gethostname().split(".")[0][:40] or "host"
    return f"{host}:{os.getpid()}:{get_random_string(6)}"[:64]


def set_current_worker(worker_id: str | None) -> None:
    global _current_worker
    _current_worker = worker_id


def worker_identity() -> str:
    """The id of this process's ``credo worker`` (whose lease covers what it claims), else
    ``host:pid`` (a web or command process, which holds no lease)."""
    if _current_worker:
        return _current_worker
    host = socket.gethostname().split(".")[0][:40] or "host"
    return f"{host}:{os.getpid()}"


def heartbeat(worker_id: str, *, queues: str = "", now: dt.datetime | None = None) -> None:
    """Renew ``worker_id``'s lease (creating it on the first beat)."""
    now = now or timezone.now()
    if WorkerLease.objects.filter(pk=worker_id).update(heartbeat_at=now, stopped_at=None):
        return
    WorkerLease.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "heartbeat_at": now,
            "stopped_at": None,
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "queues": queues[:255],
        },
    )


def worker_stopped(worker_id: str) -> None:
    WorkerLease.objects.filter(pk=worker_id).update(stopped_at=timezone.now())


# ---------------------------------------------------------------------------------------------
# Stale claims and the reaper
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaleClaim:
    run: DBTaskResult
    worker_id: str
    heartbeat_at: dt.datetime | None  # the worker's last renewal; None: it never held a lease
    hostname: str = ""


def stale_claims(now: dt.datetime | None = None) -> list[StaleClaim]:
    """RUNNING tasks whose worker has not renewed its lease for ``CREDO_TASK_LEASE_SECONDS``.

    A claim younger than the lease is never stale: the claim itself proves the worker was alive
    then."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=lease_seconds())
    runs = list(
        DBTaskResult.objects.running()
        .filter(started_at__lt=cutoff)
        .defer("return_value", "traceback")
        .order_by("started_at")
    )
    if not runs:
        return []
    holders = {run.worker_ids[-1] for run in runs if run.worker_ids}
    leases = {lease.pk: lease for lease in WorkerLease.objects.filter(pk__in=holders)}
    stale = []
    for run in runs:
        worker = run.worker_ids[-1] if run.worker_ids else ""
        lease = leases.get(worker)
        if lease is not None and lease.heartbeat_at >= cutoff:
            continue
        stale.append(
            StaleClaim(
                run=run,
                worker_id=worker,
                heartbeat_at=lease.heartbeat_at if lease else None,
                hostname=lease.hostname if lease else "",
            )
        )
    return stale


ReapListener = Callable[[TaskReap, list[Any], dict[str, Any]], None]
#: task path → listeners of its reaps (in registration order).
reap_listeners: Registry[list[ReapListener]] = Registry("reap listeners", on_duplicate="keep")


def register_reap_listener(task_path: str, fn: ReapListener) -> ReapListener:
    """``fn(reap, args, kwargs)`` after a task of ``task_path`` was reaped (committed): the hook
    for the owner of the task's work to record it (e.g. the close of business fails its run when
    a chunk's task is given up). The reaper imports the task's module first, so registering next
    to the task definition is enough."""
    fns = reap_listeners.register(task_path, [])
    if fn not in fns:
        fns.append(fn)
    return fn


def unregister_reap_listener(task_path: str, fn: ReapListener) -> None:
    fns = reap_listeners.get(task_path) or []
    if fn in fns:
        fns.remove(fn)


def _notify(reap: TaskReap, args_kwargs: dict[str, Any]) -> None:
    with contextlib.suppress(ImportError):
        import_string(reap.task_path)  # registers listeners kept next to the task
    for fn in list(reap_listeners.get(reap.task_path) or []):
        try:
            fn(reap, list(args_kwargs.get("args", [])), dict(args_kwargs.get("kwargs", {})))
        except Exception:
            logger.exception("reap listener %r failed for task %s", fn, reap.task_result_id)


def _reason(claim: StaleClaim, attempt: int, retry: bool) -> str:
    beat = (
        timezone.localtime(claim.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S")
        if claim.heartbeat_at
        else _("无")
    )
    text = _(
        "工作进程 %(worker)s 领取任务后 %(seconds)s 秒内未续约（最后心跳：%(beat)s），"
        "第 %(attempt)s 次领取被回收。"
    ) % {
        "worker": claim.worker_id or "—",
        "seconds": lease_seconds(),
        "beat": beat,
        "attempt": attempt,
    }
    if retry:
        return text + _("已重新排队。")
    return text + _("已达最多 %(max)s 次领取，标记为失败。") % {"max": max_attempts()}


def reap_stale_tasks(*, reaper: str, now: dt.datetime | None = None) -> list[TaskReap]:
    """Take back every stale claim: re-queue it, or fail it once its claims reached the cap.

    Under RQ (``CREDO_TASK_BACKEND=rq``) this does nothing: tasks are not database rows, and RQ
    fails a job whose worker died or that outran its timeout itself
    (:mod:`credo.core.scheduling.backends`)."""
    if uses_rq():
        return []
    now = now or timezone.now()
    reaped: list[TaskReap] = []
    for claim in stale_claims(now):
        run = claim.run
        attempt = len(run.worker_ids)
        retry = attempt < max_attempts()
        reason = _reason(claim, attempt, retry)
        with transaction.atomic():
            # Conditional on the claim we saw: a second reaper, or a worker that claimed the
            # re-queued task meanwhile, makes this update nothing.
            same_claim = DBTaskResult.objects.filter(
                pk=run.pk, status="RUNNING", started_at=run.started_at
            )
            if retry:
                updated = fsm.transition_queryset(same_claim, "READY", started_at=None)
            else:
                updated = fsm.transition_queryset(
                    same_claim,
                    "FAILED",
                    finished_at=now,
                    return_value=None,
                    exception_class_path=LEASE_EXPIRED,
                    traceback=reason,
                )
            if updated != 1:
                continue
            reap = TaskReap.objects.create(
                task_result_id=run.pk,
                task_path=run.task_path,
                worker_id=claim.worker_id[:64],
                claimed_at=run.started_at,
                heartbeat_at=claim.heartbeat_at,
                attempt=attempt,
                outcome=TaskReap.Outcome.RETRIED if retry else TaskReap.Outcome.FAILED,
                reason=reason,
                reaped_by=reaper[:64],
            )
            audit_record(
                action="task.reaped",
                actor=None,
                object_type="django_tasks_db.dbtaskresult",
                object_id=str(run.pk),
                object_repr=run.task_path[:200],
                metadata={
                    "worker": claim.worker_id,
                    "attempt": attempt,
                    "outcome": reap.outcome,
                    "reaped_by": reaper,
                },
            )
            args_kwargs = dict(run.args_kwargs or {})
            transaction.on_commit(functools.partial(_notify, reap, args_kwargs))
        logger.warning("reaped task %s (%s): %s", run.pk, run.task_path, reason)
        reaped.append(reap)
    return reaped
