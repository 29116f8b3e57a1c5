"""Which task backend runs Credo's tasks: the database queue (django-tasks-db, the default) or
Redis through RQ (django-tasks-rq, ``CREDO_TASK_BACKEND=rq``).

What differs for the rest of the scheduling app:

* **workers** — ``credo worker`` runs ``db_worker`` (database) or an RQ worker with
  django-tasks-rq's job class (RQ), on the same queues (``TASKS["default"]["QUEUES"]``);
* **leases and the reaper** — the database queue has no notion of a dead worker, so Credo's
  lease/reaper re-queues claims whose worker stopped renewing its lease. RQ has its own: every
  worker heartbeats in Redis, a job's runtime is capped by its timeout (``CREDO_RQ_JOB_TIMEOUT``:
  the work horse is killed and the job failed), and a job whose worker died is moved to the
  queue's *failed job registry* as abandoned by the next worker's registry maintenance. Credo's
  reaper therefore does nothing under RQ (there are no database task rows to take back); see
  :func:`credo.core.scheduling.reaper.reap_stale_tasks`;
* **the task pages** list the database queue's runs only; under RQ use ``credo rqstats`` (or
  ``rq info``) for queue depth, started and failed jobs.

The scheduler (``credo scheduler``) enqueues through ``Task.enqueue`` and so works with both.
"""

from __future__ import annotations

from django.conf import settings

RQ_PREFIX = "django_tasks_rq."


def backend_path(alias: str = "default") -> str:
    return str(settings.TASKS.get(alias, {}).get("BACKEND", ""))


def uses_rq(alias: str = "default") -> bool:
    return backend_path(alias).startswith(RQ_PREFIX)
