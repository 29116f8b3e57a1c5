"""``credo provisions``: 贷款损失准备.

* ``run --month 2026-11 --user NAME`` — the monthly provision run of a month (after its last
  close of business; the user needs ``lending.manage_provisions``). A re-run that finds no
  difference posts nothing.
* ``report --month 2026-11 [--format table|json]`` — the month's latest run by class and product.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.core.money import format_fen


class Command(BaseCommand):
    help = "Loan-loss provisions (贷款损失准备): run, report."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="the monthly provision run of a month")
        run.add_argument("--month", required=True, help="YYYY-MM")
        run.add_argument("--user", default="", help="the username running it (finance)")
        rep = sub.add_parser("report", help="the provision report of a month")
        rep.add_argument("--month", required=True, help="YYYY-MM")
        rep.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        from credo.lending.books.selectors import parse_month

        try:
            month = parse_month(options["month"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        getattr(self, "_" + options["action"])(month, options)

    def _run(self, month: Any, options: dict[str, Any]) -> None:
        from credo.lending.errors import LendingError
        from credo.lending.provisions.services import provision_run

        username = options["user"]
        if not username:
            raise CommandError("--user is required (a user with lending.manage_provisions)")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        try:
            run, created = provision_run(month=month, actor=user)
        except LendingError as exc:
            raise CommandError(exc.message) from None
        if created:
            self.stdout.write(
                f"provisions {run.label} #{run.sequence}: {run.loans} loans, balance "
                f"{format_fen(run.balance.fen)}, required {format_fen(run.required.fen)}, "
                f"posted {format_fen(run.posted)} ({run.duration_ms} ms)"
            )
        else:
            self.stdout.write(f"provisions {run.label}: unchanged, nothing posted")

    def _report(self, month: Any, options: dict[str, Any]) -> None:
        from credo.lending.provisions.selectors import latest_run, provision_report

        run = latest_run(month)
        if run is None:
            raise CommandError(f"no provision run for {month:%Y-%m}")
        report = provision_report(run)
        if options["format"] == "json":
            payload = {
                "period": run.label,
                "sequence": run.sequence,
                "month_end": run.month_end.isoformat(),
                "rates": run.rates_used,
                "by_class": [
                    {
                        "class": r.classification,
                        "loans": r.loans,
                        "balance": r.balance,
                        "general": r.general,
                        "specific": r.specific,
                        "required": r.required,
                    }
                    for r in report.by_class
                ],
                "products": [
                    {
                        "product": p.product,
                        "balance": p.balance,
                        "required": p.required,
                        "previous": p.previous,
                        "posted": p.amount,
                    }
                    for p in report.products
                ],
                "totals": report.totals,
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"贷款损失准备 {run.label}（第 {run.sequence} 次，{run.month_end}）")
        for r in report.by_class:
            self.stdout.write(
                f"{r.label:<6}{r.loans:>10}{format_fen(r.balance):>20}{format_fen(r.required):>20}"
            )
        t = report.totals
        self.stdout.write(
            f"{'合计':<6}{t['loans']:>10}{format_fen(t['balance']):>20}"
            f"{format_fen(t['required']):>20}"
        )
