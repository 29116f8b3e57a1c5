"""``credo backup --to DIR`` — database dump, stored documents and a manifest (no keys).

See ``credo.core.backup`` and docs/deployment.md (备份与恢复).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from credo.core.backup import BackupError, create_backup, vendor_label


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump on PostgreSQL, the online backup API on SQLite) and the "
        "stored documents into the new directory DIR, with manifest.json (version, migrations, "
        "row counts, SHA-256 of every file). Key material is never included."
    )
    # A backup must not depend on (or wait for) unrelated configuration checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", required=True, metavar="DIR", help="a new or empty directory")
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = create_backup(Path(options["to"]))
        except (BackupError, DatabaseError) as exc:
            message = str(exc) if isinstance(exc, BackupError) else f"数据库错误：{exc}"
            if options["format"] == "json":
                self.stdout.write(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
            raise CommandError(f"备份失败：{message}") from exc
        if options["format"] == "json":
            self.stdout.write(json.dumps({"ok": True, **result.as_dict()}, ensure_ascii=False))
            return
        self.stdout.write(
            f"备份完成：{result.path}\n"
            f"  数据库（{vendor_label(result.vendor)}）：{result.tables} 张表、{result.rows} 行，"
            f"{result.database_bytes} 字节\n"
            f"  文档：{result.documents} 个文件，{result.document_bytes} 字节\n"
            f"  用时 {result.seconds:.1f} 秒；清单 manifest.json 含每个文件的 SHA-256。\n"
            "  备份不含密钥：CREDO_SECRET_KEY、CREDO_ENCRYPTION_KEYS、CREDO_BLIND_INDEX_KEY、"
            "CREDO_AUDIT_ANCHOR_KEY 须另行备份。"
        )
        if result.missing_documents:
            self.stderr.write(
                f"注意：{result.missing_documents} 条数据库记录引用的文件在备份时已缺失"
                "（见 manifest.json 的 documents.missing_at_backup）。"
            )
