"""``credo worker [--queue a,b]``: django-tasks-db's ``db_worker`` on Credo's queues, with a lease.

By default it processes every queue configured in ``TASKS["default"]["QUEUES"]``. Extra options
are passed through (``--batch``, ``--max-tasks``, ``--interval``, ``--worker-id``,
``--no-startup-delay``).

The worker holds a lease (``credo.core.scheduling.reaper``): a thread renews its heartbeat every
``CREDO_TASK_LEASE_SECONDS / 5`` seconds and periodically reaps claims of workers that stopped
renewing theirs (killed inside a task), so their tasks are re-queued instead of RUNNING forever.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from credo.core.scheduling import reaper

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

    def __init__(self, worker_id: str, queues: str) -> None:
        super().__init__(name=f"lease-{worker_id}", daemon=True)
        self.worker_id, self.queues = worker_id, queues
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
                if time.monotonic() - last_reap >= reaper.reap_interval():
                    last_reap = time.monotonic()
                    reap_once(self.worker_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


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
        reaper.heartbeat(worker_id, queues=queues)
        reaper.set_current_worker(worker_id)
        reap_once(worker_id)
        keeper = LeaseKeeper(worker_id, queues)
        keeper.start()
        try:
            call_command("db_worker", **kwargs)
        finally:
            keeper.stop()
            reaper.set_current_worker(None)
            reaper.worker_stopped(worker_id)
