"""``credo imapps sync <wecom|dingtalk>``: sync departments and members now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.imapps.models import Platform, SyncRun


class Command(BaseCommand):
    help = "企业微信/钉钉应用：同步组织架构与成员（sync wecom|dingtalk）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sync = sub.add_parser("sync", help="同步部门与成员")
        sync.add_argument("platform", choices=Platform.values)

    def handle(self, *args: Any, **options: Any) -> None:
        from credo.imapps.services import sync_run

        run = sync_run(platform=options["platform"], actor=None, trigger="cli")
        if run.status != SyncRun.Status.DONE:
            raise CommandError(f"同步失败：{run.error}")
        self.stdout.write(
            " ".join(f"{k}={v}" for k, v in sorted(run.counts.items())) or "nothing to do"
        )
