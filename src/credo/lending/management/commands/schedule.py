"""``credo schedule``: the repayment-schedule calculator (same engine as loans), with the
年化利率 (IRR method, all fees; 中国人民银行公告〔2021〕第3号) of the borrower's cash flows."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.lending.pricing.apr import FEE_TIMINGS, AprError, schedule_apr
from credo.lending.schedule import METHOD_LABELS, METHODS, ScheduleError, fen_to_str, generate


def _decimal(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CommandError(f"{name} 不是有效的数字：{text}") from None
    if not value.is_finite():
        raise CommandError(f"{name} 不是有效的数字：{text}")
    return value


def _fen(text: str | None, name: str) -> int:
    if text in (None, ""):
        return 0
    value = _decimal(str(text), name)
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise CommandError(f"{name} 应为不小于 0、最多两位小数的金额（元）")
    return int(value * 100)


class Command(BaseCommand):
    help = "还款计划试算 / repayment schedule calculator (amounts in yuan)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--principal", required=True, help="贷款本金（元），如 1000000")
        parser.add_argument("--annual-rate", required=True, help="年利率（%%），如 4.9")
        parser.add_argument("--months", required=True, type=int, help="期限（月）")
        parser.add_argument(
            "--method",
            required=True,
            choices=METHODS,
            help="；".join(f"{m}={METHOD_LABELS[m]}" for m in METHODS)
            + "（按季方法的期限须为 3 的整数倍）",
        )
        parser.add_argument("--start", required=True, help="起息日 YYYY-MM-DD")
        parser.add_argument(
            "--repayment-day", type=int, default=None, help="还款日 1–31（按季方法：每季的该日）"
        )
        parser.add_argument("--days-in-year", type=int, default=360, choices=(360, 365))
        parser.add_argument(
            "--upfront-fee", default=None, help="一次性手续费（元），计入年化利率，默认 0"
        )
        parser.add_argument(
            "--installment-fee", default=None, help="每期服务费（元），计入年化利率，默认 0"
        )
        parser.add_argument(
            "--fee-timing",
            choices=FEE_TIMINGS,
            default=FEE_TIMINGS[0],
            help="一次性手续费的收取方式（本金全额放款，手续费由借款人另行支付）："
            "disbursement=放款时收取，first_installment=随首期还款收取",
        )
        parser.add_argument("--format", choices=("json", "table"), default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        principal = _decimal(options["principal"], "--principal")
        if principal != principal.quantize(Decimal("0.01")):
            raise CommandError("--principal 最多两位小数（精确到分）")
        try:
            start = dt.date.fromisoformat(options["start"])
        except ValueError:
            raise CommandError("--start 应为 YYYY-MM-DD") from None
        try:
            schedule = generate(
                principal=int(principal * 100),
                annual_rate=_decimal(options["annual_rate"], "--annual-rate"),
                months=options["months"],
                method=options["method"],
                start=start,
                repayment_day=options["repayment_day"],
                days_in_year=options["days_in_year"],
            )
        except ScheduleError as exc:
            raise CommandError(str(exc)) from exc
        upfront = _fen(options["upfront_fee"], "--upfront-fee")
        per_period = _fen(options["installment_fee"], "--installment-fee")
        try:
            apr = schedule_apr(
                schedule,
                upfront_fee=upfront,
                installment_fee=per_period,
                fee_timing=options["fee_timing"],
                days_in_year=options["days_in_year"],
                repayment_day=options["repayment_day"],
            )
        except AprError as exc:
            raise CommandError(str(exc)) from exc
        if options["format"] == "json":
            data = schedule.as_dict()
            data.update(
                upfront_fee=fen_to_str(upfront),
                installment_fee=fen_to_str(per_period),
                apr_percent=apr.percent_str,
                apr_effective_percent=apr.effective_percent_str,
            )
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        self.stdout.write(
            f"{METHOD_LABELS[schedule.method]}  本金 {fen_to_str(schedule.principal)} 元  "
            f"年利率 {options['annual_rate']}%  {len(schedule.installments)} 期"
        )
        header = f"{'期数':>4} {'还款日':>10} {'应还金额':>14} {'本金':>14} {'利息':>12} {'剩余本金':>16}"
        self.stdout.write(header)
        for i in schedule.installments:
            self.stdout.write(
                f"{i.period:>6} {i.due_date.isoformat():>13} {fen_to_str(i.payment):>18} "
                f"{fen_to_str(i.principal):>16} {fen_to_str(i.interest):>14} "
                f"{fen_to_str(i.balance):>20}"
            )
        self.stdout.write(
            f"合计：利息 {fen_to_str(schedule.total_interest)} 元，"
            f"还款总额 {fen_to_str(schedule.total_payment)} 元"
        )
        fees = ""
        if upfront or per_period:
            fees = (
                f"（含一次性手续费 {fen_to_str(upfront)} 元、"
                f"每期服务费 {fen_to_str(per_period)} 元）"
            )
        self.stdout.write(
            f"年化利率（IRR 法，单利）：{apr.percent_str}%{fees}；"
            f"复利折算 {apr.effective_percent_str}%"
        )
