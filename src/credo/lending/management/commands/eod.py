"""``credo eod --date YYYY-MM-DD [--chunk-size N] [--workers N]``: the close-of-business batch
(日终批处理)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.core import clock
from credo.lending.eod import EodError, run_eod
from credo.lending.models import EodRun


class Command(BaseCommand):
    help = "日终批处理：标记到期/逾期、计算逾期天数、计提罚息、更新状态与五级分类（默认昨天）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="业务日期 YYYY-MM-DD（默认：昨天）")
        parser.add_argument("--chunk-size", type=int, default=5000, help="每个分片的贷款数")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="并行线程数（分片与日终后续作业；默认 CREDO_EOD_WORKERS，即每个 CPU 核一个，最多 4 个）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"日期格式错误：{options['date']}（应为 YYYY-MM-DD）") from exc
        else:
            day = clock.today() - dt.timedelta(days=1)
        started = time.perf_counter()

        def progress(run: EodRun) -> None:
            self.stdout.write(
                f"  {run.business_date} 分片 {run.chunks_done}/{run.chunks_total}，"
                f"贷款 {run.loans_done}/{run.loans_total}"
            )

        try:
            run = run_eod(
                day,
                chunk_size=options["chunk_size"],
                progress=progress,
                workers=options["workers"],
            )
        except EodError as exc:
            raise CommandError(exc.message) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"日终批处理 {run.business_date}：{run.get_status_display()}，用时 {elapsed:.1f} 秒"
        )
        for key, value in sorted((run.counts or {}).items()):
            if not key.startswith("_"):
                self.stdout.write(f"  {key}: {value}")
        if run.status != EodRun.Status.DONE:
            raise CommandError(f"日终批处理失败：{run.error}")
