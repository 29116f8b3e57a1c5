"""``credo loan show NUMBER [--format json|table]``: one loan's status and figures."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.lending.bookimport.loan_show import loan_show_data, loan_show_table
from credo.lending.models import Loan


class Command(BaseCommand):
    help = "贷款查询：`credo loan show NUMBER [--format json|table]`（金额为元，字符串）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="状态、逾期天数、五级分类、应还与还款计划")
        show.add_argument("number", help="贷款编号")
        show.add_argument("--format", choices=("table", "json"), default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        number = options["number"].strip()
        loan = Loan.objects.select_related("customer").filter(number=number).first()
        if loan is None:
            raise CommandError(f"贷款编号 {number} 不存在。")
        data = loan_show_data(loan)
        if options["format"] == "json":
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(loan_show_table(data))
