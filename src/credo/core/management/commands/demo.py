"""``credo demo advance --days N`` / ``credo demo status``: the demo's business clock.

Outside production only. ``advance`` moves the business date forward one day at a time and
runs each day's schedules (the close of business, monitoring, collections, reminders, the
outbox), so an evaluator can watch loans fall due and go overdue without back-dating anything.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.core import clock
from credo.core.scheduling.advance import DayResult, DemoClockError, demo_advance


class Command(BaseCommand):
    help = "演示时钟：前移业务日期并执行每天的日终与定时任务（生产环境不可用）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        adv = sub.add_parser("advance", help="前移业务日期 N 天")
        adv.add_argument("--days", type=int, required=True, help="天数（1–366）")
        sub.add_parser("status", help="显示当前业务日期")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "status":
            offset = clock.offset_days()
            self.stdout.write(f"业务日期 {clock.today().isoformat()}（演示时钟前移 {offset} 天）")
            return

        def show(day: DayResult) -> None:
            names = "、".join(name for name, _value in day.ran) or "无"
            self.stdout.write(f"{day.business_date.isoformat()}：已执行 {names}")

        if options["verbosity"] < 2:  # one line per day, not one per task
            logging.getLogger("django_tasks").setLevel(logging.WARNING)
        try:
            demo_advance(options["days"], progress=show)
        except DemoClockError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"业务日期现为 {clock.today().isoformat()}（演示时钟前移 {clock.offset_days()} 天）"
            )
        )
