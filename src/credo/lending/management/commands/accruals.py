"""``credo accruals``: the book's accounting basis (记账基础) and the non-accrual threshold.

* ``show`` — the basis, the threshold, the receivable and off-balance totals;
* ``set --basis accrual|cash [--non-accrual-dpd 90] --user NAME`` — change them (audited).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Sum


class Command(BaseCommand):
    help = "Accrual accounting: show or set the book's basis and non-accrual threshold."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("show", help="the basis, the threshold and the sub-ledger totals")
        s = sub.add_parser("set", help="change the basis / threshold")
        s.add_argument("--basis", choices=["accrual", "cash"], required=True)
        s.add_argument("--non-accrual-dpd", type=int, default=None)
        s.add_argument("--user", required=True, help="the username making the change")

    def handle(self, *args: Any, **options: Any) -> None:
        from credo.lending.accruals.models import LoanAccrual
        from credo.lending.accruals.services import book_settings, book_settings_update

        if options["action"] == "set":
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"用户 {options['user']} 不存在。")
            current = book_settings()
            try:
                row = book_settings_update(
                    basis=options["basis"],
                    non_accrual_dpd=options["non_accrual_dpd"] or current.non_accrual_dpd,
                    actor=user,
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        else:
            row = book_settings()
        totals = LoanAccrual.objects.aggregate(
            i=Sum("interest_accrued"),
            ia=Sum("interest_adjusted"),
            off=Sum("interest_off_balance"),
        )
        receivable = int(totals["i"] or 0) + int(totals["ia"] or 0)
        non_accrual = LoanAccrual.objects.filter(non_accrual_since__isnull=False).count()
        self.stdout.write(
            f"记账基础：{row.get_basis_display()}（{row.basis}）；转非应计：逾期超过 "
            f"{row.non_accrual_dpd} 天\n应收利息（分户合计）：{receivable / 100:,.2f}；"
            f"表外应收利息：{int(totals['off'] or 0) / 100:,.2f}；非应计贷款：{non_accrual} 笔"
        )
