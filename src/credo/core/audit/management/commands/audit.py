from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.core.audit.services import audit_verify


class Command(BaseCommand):
    help = (
        "Audit log tools. `credo audit verify` checks the hash chain (exit 1 on the first bad row)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="verify the hash chain of the audit log")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            result = audit_verify()
            if not result.ok:
                raise CommandError(
                    f"audit chain broken at row seq={result.bad_seq} "
                    f"(审计链在第 {result.bad_seq} 条记录处断裂): {result.reason}; "
                    f"{result.checked} rows verified before it."
                )
            self.stdout.write(f"audit chain OK: {result.checked} rows verified (审计链完整)")
