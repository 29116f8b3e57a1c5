"""``credo worker [--queue a,b]``: django-tasks-db's ``db_worker`` on Credo's queues, with a lease.

By default it processes every queue configured in ``TASKS["default"]["QUEUES"]``. Extra options
are passed through (``--batch``, ``--max-tasks``, ``--interval``, ``--worker-id``,
``--no-startup-delay``).

The worker holds a lease (``credo.core.scheduling.reaper``): a thread renews its heartbeat every
``CREDO_TASK_LEASE_SECONDS / 5`` seconds and periodically reaps claims of workers that stopped
renewing theirs (killed inside a task), so their tasks are re-queued instead of RUNNING forever.

With ``CREDO_TASK_BACKEND=rq`` the same command runs an RQ worker (django-rq's worker with
django-tasks-rq's job class, its scheduler enabled for deferred tasks) on the same queues:
``--batch`` is RQ's burst mode, ``--max-tasks`` its ``max_jobs``, ``--worker-id`` its name. The
lease is still renewed (the id is what a close-of-business chunk records as its claimant) but
nothing is reaped: RQ fails jobs of dead workers itself (``credo.core.scheduling.backends``).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from credo.core.scheduling import reaper
from credo.core.scheduling.backends import uses_rq

logger = logging.getLogger("credo.scheduling")


def configured_queues() -> list[str]:
    queues = settings.TASKS.get("default", {}).get("QUEUES") or ["default"]
    return list(queues)


def reap_once(worker_id: str) -> int:
    try:
        return len(reaper.reap_stale_tasks(reaper=worker_id))
    except Exception:
        logger.exception("worker %s: reaping stale tasks failed", worker_id)
        return 0


class LeaseKeeper(threading.Thread):
    """Renews the worker's lease while the main thread runs tasks (a long close-of-business
    chunk included), and reaps stale claims every ``reaper.reap_interval()`` seconds."""

    def __init__(self, worker_id: str, queues: str, *, reap: bool = True) -> None:
        super().__init__(name=f"lease-{worker_id}", daemon=True)
        self.worker_id, self.queues, self.reap = worker_id, queues, reap
        self.stopping = threading.Event()

    def run(self) -> None:
        last_reap = time.monotonic()
        try:
            while not self.stopping.wait(reaper.heartbeat_interval()):
                close_old_connections()  # this thread's own connection
                try:
                    reaper.heartbeat(self.worker_id, queues=self.queues)
                except Exception:
                    logger.exception("worker %s: lease renewal failed", self.worker_id)
                    continue
                if self.reap and time.monotonic() - last_reap >= reaper.reap_interval():
                    last_reap = time.monotonic()
                    reap_once(self.worker_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


def run_rq_worker(queues: list[str], *, worker_id: str, options: dict[str, Any]) -> None:
    """An RQ worker on ``queues`` (each job in a forked work horse, as ``rqworker`` does)."""
    from django_rq.utils import reset_db_connections
    from django_rq.workers import get_worker
    from rq.logutils import setup_loghandlers

    level = {0: "WARNING", 1: "INFO"}.get(options["verbosity"], "DEBUG")
    setup_loghandlers(level)
    worker = get_worker(*queues, job_class="django_tasks_rq.Job", name=worker_id)
    reset_db_connections()  # before the work horse forks
    worker.work(
        burst=options["batch"],
        with_scheduler=True,
        logging_level=level,
        max_jobs=options["max_tasks"] or None,
    )


def _exit_before_work(signum: int, frame: object) -> None:
    logger.warning("worker: %s received before the first task, stopping", signal.strsignal(signum))
    sys.exit(0)


class Command(BaseCommand):
    help = "Run a background task worker (all configured queues by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", default="", help="Comma-separated queue names.")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--batch", action="store_true", help="Run queued tasks, then exit.")
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--worker-id", default=None)
        parser.add_argument(
            "--no-startup-delay", action="store_false", dest="startup_delay", default=True
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Until the worker loop installs its own handlers (it finishes the running task first),
        # a stop request exits cleanly: nothing has been claimed yet. Without this a SIGTERM in
        # the first moments (a deploy restarting a worker that is still booting) killed the
        # process by the signal (exit -15) and left its fresh lease looking alive.
        signal.signal(signal.SIGTERM, _exit_before_work)
        signal.signal(signal.SIGINT, _exit_before_work)
        queues = options["queue"] or ",".join(configured_queues())
        worker_id = options["worker_id"] or reaper.new_worker_id()
        kwargs: dict[str, Any] = {
            "queue_name": queues,
            "interval": options["interval"],
            "batch": options["batch"],
            "reload": False,
            "startup_delay": options["startup_delay"],
            "verbosity": options["verbosity"],
            "worker_id": worker_id,
        }
        if options["max_tasks"]:
            kwargs["max_tasks"] = options["max_tasks"]
        # The lease exists before the first claim; claims left by dead workers are taken back
        # before this worker looks for work (a restart after a crash recovers at once).
        rq = uses_rq()
        reaper.heartbeat(worker_id, queues=queues)
        reaper.set_current_worker(worker_id)
        if not rq:
            reap_once(worker_id)
        keeper = LeaseKeeper(worker_id, queues, reap=not rq)
        keeper.start()
        try:
            if rq:
                run_rq_worker(queues.split(","), worker_id=worker_id, options=options)
            else:
                call_command("db_worker", **kwargs)
        finally:
            keeper.stop()
            reaper.set_current_worker(None)
            reaper.worker_stopped(worker_id)
