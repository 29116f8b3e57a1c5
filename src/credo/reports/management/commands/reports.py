"""``credo reports snapshot|backfill|deliver``: maintenance of the report summary tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.core import clock
from credo.reports import services, standard


class Command(BaseCommand):
    help = "Report tables: `snapshot --date D`, `backfill --months N` (month-end DPD history), `deliver`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        snap = sub.add_parser(
            "snapshot", help="rebuild the portfolio snapshot of one business date"
        )
        snap.add_argument("--date", required=True)
        back = sub.add_parser("backfill", help="rebuild month-end DPD history from installments")
        back.add_argument("--months", type=int, default=12)
        sub.add_parser("deliver", help="send scheduled reports that are due now")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "snapshot":
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("--date must be YYYY-MM-DD") from None
            try:
                n = services.snapshot_refresh(day)
            except services.ReportError as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(f"snapshot {day}: {n} rows")
        elif action == "backfill":
            months = options["months"]
            if not 1 <= months <= 120:
                raise CommandError("--months must be between 1 and 120")
            today = clock.today()
            first = today.replace(day=1)
            for i in range(months, 0, -1):
                month = standard.add_months(first, -i)
                n = standard.monthend_backfill(month)
                self.stdout.write(f"{standard.month_end(month)}: {n} loans")
        else:
            self.stdout.write(f"delivered {services.run_due_schedules()} scheduled report(s)")
