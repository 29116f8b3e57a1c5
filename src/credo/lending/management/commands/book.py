"""``credo book import FILE.xlsx [--dry-run] [--as-of YYYY-MM-DD] [--format json]
[--user USERNAME]``: migrate an existing loan book (存量贷款迁移)."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.lending.bookimport import book_import
from credo.lending.bookimport.services import COUNT_LABELS, SUMMARY_LABELS
from credo.lending.errors import LendingError

STATUS_LABELS = {
    "preview": "预览通过（未写入）",
    "imported": "已导入",
    "unchanged": "未变化（已导入过，本次未写入）",
    "invalid": "有错误行，未导入任何数据",
    "conflict": "与已导入数据冲突，未导入任何数据",
}


class Command(BaseCommand):
    help = "存量贷款迁移：`credo book import FILE.xlsx [--dry-run] [--as-of YYYY-MM-DD] [--format json]`"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="导入 loans / repayments 两个工作表")
        imp.add_argument("file", help=".xlsx 文件")
        imp.add_argument("--dry-run", action="store_true", help="只检查和预览对账，不写入")
        imp.add_argument("--as-of", help="追溯（日终补跑）至 YYYY-MM-DD，默认昨天")
        imp.add_argument("--format", choices=("table", "json"), default="table")
        imp.add_argument(
            "--user", help="以该用户身份导入（须有导入存量贷款权限；默认唯一的超级管理员）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        as_of = None
        if options["as_of"]:
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError as exc:
                raise CommandError(f"日期格式错误：{options['as_of']}（应为 YYYY-MM-DD）") from exc
        actor = self._actor(options.get("user"))
        started = time.perf_counter()
        try:
            out = book_import(
                data=path.read_bytes(),
                filename=path.name,
                actor=actor,
                as_of=as_of,
                dry_run=options["dry_run"],
            )
        except LendingError as exc:
            raise CommandError(exc.message) from exc
        elapsed = time.perf_counter() - started
        if options["format"] == "json":
            self.stdout.write(json.dumps(out.as_dict(), ensure_ascii=False, indent=2))
        else:
            self._table(out, elapsed)
        if not out.ok:
            raise CommandError(STATUS_LABELS.get(out.status, out.status))

    def _actor(self, username: str | None) -> Any:
        users = get_user_model().objects.filter(is_active=True)
        if username:
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(f"用户 {username} 不存在或已停用。")
            return user
        admins = list(users.filter(is_superuser=True)[:2])
        if len(admins) != 1:
            raise CommandError("请用 --user 指定导入人（须有“导入存量贷款”权限）。")
        return admins[0]

    def _table(self, out: Any, elapsed: float) -> None:
        w = self.stdout.write
        w(
            f"存量贷款导入 {out.file_name}：{STATUS_LABELS.get(out.status, out.status)}，"
            f"追溯至 {out.as_of}，用时 {elapsed:.1f} 秒"
        )
        w(f"  sha256: {out.sha256}")
        for err in out.errors[:200]:
            col = f"【{err['column']}】" if err["column"] else ""
            w(f"  错误 {err['sheet']} 表第 {err['row']} 行{col}：{err['message']}")
        for c in out.conflicts[:200]:
            col = f"【{c['column']}】" if c["column"] else ""
            w(
                f"  冲突 {c['sheet']} 表第 {c['row']} 行 {c['loan_number']}{col}：{c['message']}"
                f"（文件：{c['file'] or '—'}；已导入：{c['imported'] or '—'}）"
            )
        for warn in out.warnings[:50]:
            w(f"  提示 {warn['sheet']} 表第 {warn['row']} 行：{warn['message']}")
        recon = out.reconciliation
        if not recon:
            return
        counts = recon.get("counts", {})
        for key, label in COUNT_LABELS:
            w(f"  {label}: {counts.get(key, 0)}")
        for key, label in SUMMARY_LABELS:
            w(f"  {label}: {recon.get(key, '')}")
        diffs = [r for r in recon.get("per_loan", []) if r.get("difference") not in (None, "0.00")]
        if diffs:
            w("  剩余本金差异（Credo − 原系统）：")
            for r in diffs[:100]:
                w(
                    f"    {r['loan_number']}  Credo {r['outstanding_principal']}  "
                    f"原系统 {r['control']}  差额 {r['difference']}"
                )
