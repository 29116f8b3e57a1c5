"""``credo holidays load-default [--year Y]`` — (re)load China's shipped holiday calendar;
``credo holidays show [--year Y]`` — list the calendar's days."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.core.holidays import services
from credo.core.holidays.data import YEARS


class Command(BaseCommand):
    help = "Holiday calendar (节假日/调休): load the shipped State Council notices, list days."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "load-default",
            help=f"add missing days and reset changed ones to the shipped notice "
            f"(years: {', '.join(map(str, YEARS))})",
        )
        load.add_argument("--year", type=int, default=None)
        show = sub.add_parser("show", help="list the days of a year")
        show.add_argument("--year", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        year = options.get("year")
        if options["action"] == "load-default":
            try:
                result = services.holidays_load_default(actor=None, year=year)
            except services.HolidayError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(
                f"holidays {year or 'all shipped years'}: created {result.created}, "
                f"updated {result.updated}, unchanged {result.unchanged}"
            )
            return
        from credo.core.models import Holiday

        qs = Holiday.objects.order_by("date")
        if year:
            qs = qs.filter(year=year)
        for h in qs:
            self.stdout.write(f"{h.date.isoformat()}\t{h.kind}\t{h.name}")
