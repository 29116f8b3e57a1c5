"""``credo worker [--queue a,b]``: django-tasks-db's ``db_worker`` on Credo's queues.

By default it processes every queue configured in ``TASKS["default"]["QUEUES"]``. Extra options
are passed through (``--batch``, ``--max-tasks``, ``--interval``, ``--worker-id``,
``--no-startup-delay``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


def configured_queues() -> list[str]:
    queues = settings.TASKS.get("default", {}).get("QUEUES") or ["default"]
    return list(queues)


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
        kwargs: dict[str, Any] = {
            "queue_name": queues,
            "interval": options["interval"],
            "batch": options["batch"],
            "reload": False,
            "startup_delay": options["startup_delay"],
            "verbosity": options["verbosity"],
        }
        if options["max_tasks"]:
            kwargs["max_tasks"] = options["max_tasks"]
        if options["worker_id"]:
            kwargs["worker_id"] = options["worker_id"]
        call_command("db_worker", **kwargs)
