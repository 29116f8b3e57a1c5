"""``credo ledger verify``: the ledger invariants; exit 1 naming every problem."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.lending.ledger import verify


class Command(BaseCommand):
    help = "Ledger tools. `credo ledger verify` checks that entries balance and sub-ledgers agree."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="check the ledger invariants")

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify()
        if not report.ok:
            for problem in report.problems[:100]:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"ledger invariants broken: {len(report.problems)} problem(s)")
        self.stdout.write(
            f"ledger OK: {report.entries} entries balance, {report.loans} loans agree "
            "with their sub-ledgers (总账与分户账一致)"
        )
