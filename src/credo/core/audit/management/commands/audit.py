from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.core.audit.services import audit_checkpoint, audit_seal, audit_verify


class Command(BaseCommand):
    help = (
        "Audit log tools. `credo audit verify` seals the committed rows, checks the hash chain "
        "and the keyed checkpoints (exit 1 on the first bad row, a truncated tail or a forged "
        "checkpoint), anchors the verified tail and reports rows still unsealed; "
        "`credo audit seal` chains the unsealed rows; `credo audit checkpoint` anchors the "
        "current tail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="verify the hash chain of the audit log and its anchors")
        sub.add_parser("checkpoint", help="write a keyed checkpoint of the chain tail")
        sub.add_parser("seal", help="chain the committed unsealed rows now")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "seal":
            sealed = audit_seal()
            self.stdout.write(f"sealed {sealed.sealed} row(s) (已封存 {sealed.sealed} 条)")
            if sealed.altered:
                raise CommandError(
                    f"rows changed before sealing (封存前被改动): ids {list(sealed.altered)}"
                )
            return
        if options["action"] == "checkpoint":
            cp = audit_checkpoint(source="manual")
            if cp is None:
                self.stdout.write("audit log is empty: nothing to anchor")
            else:
                self.stdout.write(f"checkpoint written: seq={cp.seq} hash={cp.hash[:16]}…")
            return
        result = audit_verify()
        lag = f"{result.lag}（本次封存 {result.sealed_now} 条）"
        if not result.ok:
            self.stderr.write(f"  unsealed (未封存): {lag}")
            for extra in result.problems[1:]:
                self.stderr.write(f"  also: {extra}")
            if result.anchor:
                raise CommandError(
                    f"audit chain check failed (审计链校验失败) against anchor {result.anchor}: "
                    f"{result.reason}; {result.checked} rows verified."
                )
            if result.bad_seq is None:
                raise CommandError(f"audit chain check failed (审计链校验失败): {result.reason}")
            raise CommandError(
                f"audit chain broken at row seq={result.bad_seq} "
                f"(审计链在第 {result.bad_seq} 条记录处断裂): {result.reason}; "
                f"{result.checked} rows verified before it."
            )
        self.stdout.write(
            f"audit chain OK: {result.checked} rows verified (审计链完整), "
            f"{result.anchors} checkpoint(s) checked; {lag}"
        )
