"""``credo restore --from DIR`` — verify a backup, restore it into the empty database of
DATABASE_URL and the document directories, then check it (row counts, migrations, missing
files, keys, audit chain, ledger). Exit status 1 on any refusal or mismatch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.core.backup import format_report_text, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a `credo backup` directory into the EMPTY database of DATABASE_URL and "
        "CREDO_DATA_DIR: checksums first (nothing is restored on a mismatch), then row counts, "
        "migrations (newer code: migrate), missing documents, keys, audit chain and ledger."
    )
    # The target database is empty (no tables yet): checks that query it must not run first.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", required=True, metavar="DIR")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a non-empty database (PostgreSQL: the whole public schema) and "
            "overwrite same-named documents",
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        report = restore_backup(Path(options["source"]), force=options["force"])
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            lines = format_report_text(report)
            self.stdout.write("\n".join(lines[:-1]))
            (self.stdout if report.ok else self.stderr).write(lines[-1])
        if not report.ok:
            failed = ", ".join(s.name for s in report.steps if not s.ok)
            raise CommandError(
                f"恢复{'后校验' if report.restored else ''}失败（{failed}）"
                + ("" if report.restored else "：未恢复任何内容")
            )
