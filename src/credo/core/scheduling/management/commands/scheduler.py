"""``credo scheduler [--once] [--interval 15]``: enqueue due cron schedules.

Safe to run twice (each slot is enqueued once, see ``credo.core.scheduling.scheduler``).
SIGINT/SIGTERM finish the current tick and exit.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from credo.core.health import record_scheduler_heartbeat
from credo.core.scheduling.registry import sync_schedules
from credo.core.scheduling.scheduler import tick

logger = logging.getLogger("credo.scheduling")


class Command(BaseCommand):
    help = "Run the cron scheduler (enqueues due schedules)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one tick and exit.")
        parser.add_argument(
            "--interval", type=float, default=15.0, help="Seconds between ticks (default 15)."
        )

    def handle(self, *args: Any, once: bool, interval: float, **options: Any) -> None:
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            logger.info("scheduler: %s received, stopping", signal.Signals(signum).name)
            stop.set()

        if not once:
            signal.signal(signal.SIGINT, _stop)
            signal.signal(signal.SIGTERM, _stop)
        created = sync_schedules()
        if created:
            self.stdout.write(f"created {created} schedule(s)")
        while True:
            if not once:  # (inside a test's transaction this would close its connection)
                close_old_connections()
            try:
                for fired in tick():
                    self.stdout.write(
                        f"enqueued {fired.schedule} slot={fired.slot.isoformat()} "
                        f"result={fired.task_result_id}"
                    )
                record_scheduler_heartbeat()  # /readyz reads the scheduler's age from it
            except Exception:
                if once:
                    raise
                logger.exception("scheduler tick failed; retrying next interval")
            if once or stop.wait(max(interval, 1.0)):
                break
            sync_schedules()
