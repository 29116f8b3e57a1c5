"""``credo supervisory freeze|verify|show --month YYYY-MM``: the monthly supervisory summary."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.core import clock
from credo.reports import supervisory


def _month(raw: str) -> dt.date:
    try:
        month = dt.date.fromisoformat(f"{raw}-01")
    except ValueError:
        raise CommandError("--month must be YYYY-MM") from None
    if supervisory.month_end(month) >= clock.today():
        raise CommandError(f"{raw} has not ended yet")
    return month


class Command(BaseCommand):
    help = (
        "Supervisory reports (监管报表): `freeze --month M` (compute as of the month end and store), "
        "`verify --month M` (recompute and compare with the frozen figures), `show --month M`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("freeze", "verify", "show"):
            p = sub.add_parser(name)
            p.add_argument("--month", required=True, help="YYYY-MM")

    def handle(self, *args: Any, **options: Any) -> None:
        month = _month(options["month"])
        action = options["action"]
        if action == "freeze":
            period = supervisory.freeze(month, source="command")
            self.stdout.write(
                f"{period}: {period.totals['loans']} loans, balance {period.totals['balance']} fen, "
                f"{period.seconds:.1f} s"
            )
        elif action == "verify":
            problems = supervisory.verify(month)
            for line in problems:
                self.stdout.write(line)
            if problems:
                raise CommandError(f"{len(problems)} difference(s)")
            self.stdout.write(f"{month:%Y-%m}: recomputed figures equal the frozen ones")
        else:
            summary = supervisory.load(month) or supervisory.compute(month)
            report = supervisory.build_report(summary)
            self.stdout.write(report["title"])
            for label, value, fmt in report["indicators"]:
                self.stdout.write(f"  {label}: {supervisory.display(value, fmt)}")
