"""``credo privacy_retention [--date YYYY-MM-DD]``: run the retention policies now (as the
nightly schedule does) and print the report."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the privacy retention policies (held deletions first) and print the report."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        from credo.privacy.services import retention_run

        run = retention_run(actor=None, today=options["date"])
        self.stdout.write(json.dumps(run.report, ensure_ascii=False, indent=2))
