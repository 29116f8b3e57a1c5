"""``credo ledger``: the ledger invariants and the books.

* ``verify`` — entries balance, sub-ledgers agree, debits = credits per month, closed months
  unchanged; exit 1 naming every problem.
* ``trial-balance --period 2026-11 [--format table|json]`` — 科目余额表.
* ``gl --account cash --period 2026-11 [--loan L…] [--format table|json]`` — 总账/明细账.
* ``close --period 2026-11 --user NAME`` — 结账 (the user needs the close permission).
* ``vouchers --system yonyou_u8 --period 2026-11 [--mode detailed|summary] [--format xlsx|csv]
  --output FILE`` — 凭证导出 (``--system csv``: the generic CSV of every journal line).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.lending.ledger import verify


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


class Command(BaseCommand):
    help = "Ledger tools: verify, trial-balance, gl, close, vouchers."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="check the ledger invariants")
        tb = sub.add_parser("trial-balance", help="科目余额表 of a month")
        tb.add_argument("--period", required=True, help="YYYY-MM")
        tb.add_argument("--format", choices=["table", "json"], default="table")
        gl = sub.add_parser("gl", help="总账/明细账 of one account for a month")
        gl.add_argument("--account", required=True, help="account code, e.g. cash")
        gl.add_argument("--period", required=True, help="YYYY-MM")
        gl.add_argument("--loan", default="", help="a loan number: its sub-ledger (分户账)")
        gl.add_argument("--limit", type=int, default=1000)
        gl.add_argument("--format", choices=["table", "json"], default="table")
        close = sub.add_parser("close", help="结账 of a month")
        close.add_argument("--period", required=True, help="YYYY-MM")
        close.add_argument("--user", required=True, help="the username closing the month")
        v = sub.add_parser("vouchers", help="凭证导出 for 金蝶/用友")
        v.add_argument(
            "--system",
            required=True,
            help="kingdee_k3cloud, kingdee_jdy, yonyou_u8, yonyou_tplus or csv",
        )
        v.add_argument("--period", required=True, help="YYYY-MM")
        v.add_argument("--mode", choices=["detailed", "summary"], default="detailed")
        v.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
        v.add_argument("--output", required=True, help="file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "verify":
            return self._verify()
        from credo.lending.books.selectors import parse_month

        try:
            month = parse_month(options["period"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        getattr(self, "_" + action.replace("-", "_"))(month, options)

    def _verify(self) -> None:
        report = verify()
        if not report.ok:
            for problem in report.problems[:100]:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"ledger invariants broken: {len(report.problems)} problem(s)")
        self.stdout.write(
            f"ledger OK: {report.entries} entries balance, {report.loans} loans agree "
            "with their sub-ledgers (总账与分户账一致), debits = credits in every period"
        )

    def _trial_balance(self, month: Any, options: dict[str, Any]) -> None:
        from credo.lending.books.selectors import trial_balance

        tb = trial_balance(month)
        if options["format"] == "json":
            payload = {
                "period": tb.label,
                "status": tb.status,
                "source": tb.source,
                "balanced": tb.balanced,
                "accounts": [
                    {
                        "code": r.code,
                        "export_code": r.export_code,
                        "name": r.name,
                        "opening": r.opening,
                        "debit": r.debit,
                        "credit": r.credit,
                        "closing": r.closing,
                    }
                    for r in tb.rows
                ],
                "totals": tb.totals,
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
        else:
            head = ("科目代码", "科目", "期初余额", "本期借方", "本期贷方", "期末余额")
            self.stdout.write(f"科目余额表 {tb.label}（{tb.status}，{tb.source}）")
            self.stdout.write(
                f"{head[0]:<10}{head[1]:<18}{head[2]:>18}{head[3]:>18}{head[4]:>18}{head[5]:>18}"
            )
            for r in tb.rows:
                self.stdout.write(
                    f"{r.export_code:<10}{r.code:<18}{_yuan(r.opening):>18}{_yuan(r.debit):>18}"
                    f"{_yuan(r.credit):>18}{_yuan(r.closing):>18}"
                )
            t = tb.totals
            self.stdout.write(
                f"{'合计':<26}{'':>18}{_yuan(t['debit']):>18}{_yuan(t['credit']):>18}"
            )
            self.stdout.write("借贷平衡" if tb.balanced else "借贷不平衡！")
        if not tb.balanced:
            raise CommandError(f"trial balance of {tb.label} does not balance")

    def _gl(self, month: Any, options: dict[str, Any]) -> None:
        from credo.lending.books.selectors import ledger_lines
        from credo.lending.models import LedgerAccount, Loan

        account = LedgerAccount.objects.filter(code=options["account"]).first()
        if account is None:
            raise CommandError(f"no account {options['account']!r}")
        loan = None
        if options["loan"]:
            loan = Loan.objects.filter(number=options["loan"]).first()
            if loan is None:
                raise CommandError(f"no loan {options['loan']!r}")
        opening, total, lines = ledger_lines(account, month, loan=loan, limit=options["limit"])
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "account": account.code,
                        "period": month.strftime("%Y-%m"),
                        "loan": loan.number if loan else None,
                        "opening": opening,
                        "lines_total": total,
                        "lines": [
                            {
                                "date": ln.date.isoformat(),
                                "entry": ln.entry_id,
                                "memo": ln.memo,
                                "loan": ln.loan_number,
                                "debit": ln.debit,
                                "credit": ln.credit,
                                "balance": ln.balance,
                            }
                            for ln in lines
                        ],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        self.stdout.write(f"{account.code} {account.name} {month:%Y-%m} 期初 {_yuan(opening)}")
        for ln in lines:
            self.stdout.write(
                f"{ln.date} {ln.entry_id:>8} {ln.loan_number:<16}{_yuan(ln.debit):>16}"
                f"{_yuan(ln.credit):>16}{_yuan(ln.balance):>18}  {ln.memo}"
            )
        if total > len(lines):
            self.stdout.write(f"… {total - len(lines)} more line(s) (--limit)")

    def _close(self, month: Any, options: dict[str, Any]) -> None:
        from credo.lending.books.services import period_close
        from credo.lending.errors import LendingError

        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        try:
            period = period_close(month=month, actor=user)
        except LendingError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"period {period.label} closed")

    def _vouchers(self, month: Any, options: dict[str, Any]) -> None:
        from credo.lending.accounting import voucher_csv
        from credo.lending.books import vouchers
        from credo.lending.books.selectors import month_end

        system = options["system"]
        out = Path(options["output"])
        if system == "csv":
            out.write_bytes(voucher_csv(month, month_end(month)).encode("utf-8"))
        elif system not in vouchers.FORMATS:
            raise CommandError(f"unknown system {system!r}: {', '.join(vouchers.FORMATS.keys())}")
        elif options["format"] == "csv":
            text = vouchers.voucher_layout_csv(system, month, mode=options["mode"])
            out.write_bytes(text.encode("utf-8"))
        else:
            try:
                data = vouchers.voucher_xlsx(system, month, mode=options["mode"])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            out.write_bytes(data)
        self.stdout.write(f"wrote {out}")
