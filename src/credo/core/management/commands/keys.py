"""``credo keys generate|status|rotate`` — encryption key management.

Rotation: put a new key first in CREDO_ENCRYPTION_KEYS (keep the old ones after it), restart,
run ``credo keys rotate``; when ``credo keys status`` shows no value under an old key id, remove
that key from the list.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from credo.core.audit.services import audit_record
from credo.core.crypto import DecryptionError, generate_key_entry, key_id_of, keyring
from credo.core.keys import probe_stored_keys, rotate_field, stored_key_ids


class Command(BaseCommand):
    help = "Encryption keys: generate a new key, show which key encrypts what, rotate."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        gen = sub.add_parser("generate", help="print a new 'kid:base64key' entry")
        gen.add_argument("--kid", required=True, help="key id, e.g. 2026a")
        status = sub.add_parser(
            "status",
            help="count stored values per field and key id; decrypt a sample per key id "
            "(exit 1 when a key does not decrypt its values)",
        )
        status.add_argument("--sample", type=int, default=5, help="values tried per field+key")
        rot = sub.add_parser("rotate", help="re-encrypt every value with the first key")
        rot.add_argument("--batch", type=int, default=500)
        rot.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "generate":
            try:
                self.stdout.write(generate_key_entry(options["kid"]))
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stderr.write(
                "Put this entry FIRST in CREDO_ENCRYPTION_KEYS (keep the old keys after it), "
                "restart, then run `credo keys rotate`."
            )
            return
        ring = keyring()
        if action == "status":
            self.stdout.write(f"primary key: {ring.primary}; configured: {', '.join(ring.keys)}")
            stored = stored_key_ids()
            for key, counts in stored.items():
                summary = ", ".join(f"{kid}: {n}" for kid, n in sorted(counts.items())) or "-"
                self.stdout.write(f"  {key}: {summary}")
            bad: list[str] = []
            for kid, probe in sorted(probe_stored_keys(stored, sample=options["sample"]).items()):
                if not probe.configured:
                    bad.append(
                        f"key id '{kid}' is not configured in CREDO_ENCRYPTION_KEYS but protects "
                        f"stored values (e.g. {', '.join(probe.failed[:3])})"
                    )
                elif probe.failed:
                    bad.append(
                        f"key '{kid}' does not decrypt {len(probe.failed)} of {probe.tried} "
                        f"sampled value(s) (e.g. {', '.join(probe.failed[:3])}): the key "
                        f"material configured for '{kid}' is not the key they were written with"
                    )
                else:
                    self.stdout.write(f"  key '{kid}': {probe.tried} sampled value(s) decrypt")
            if bad:
                raise CommandError("; ".join(bad))
            return
        totals: Counter[str] = Counter()
        failures: list[str] = []
        for key, result in rotate_field_all(options["batch"], options["dry_run"]):
            totals["rotated"] += result.rotated
            totals["unchanged"] += result.unchanged
            failures.extend(f"{key} pk={pk}" for pk in result.failed)
            self.stdout.write(
                f"  {key}: {result.rotated} re-encrypted, {result.unchanged} already on "
                f"'{ring.primary}', {len(result.failed)} failed"
            )
        if not options["dry_run"]:
            with transaction.atomic():
                audit_record(
                    action="keys.rotate",
                    object_type="crypto.keyring",
                    object_id=ring.primary,
                    object_repr=f"encryption key {ring.primary}",
                    metadata={**totals, "failed": len(failures)},
                )
        if failures:
            raise CommandError(
                f"{len(failures)} value(s) could not be decrypted (unknown key id or damaged): "
                + "; ".join(failures[:20])
            )
        verb = "would re-encrypt" if options["dry_run"] else "re-encrypted"
        self.stdout.write(f"{verb} {totals['rotated']} value(s) with key '{ring.primary}'.")


def rotate_field_all(batch: int, dry_run: bool) -> Any:
    from credo.core.fields import encrypted_fields

    for field in encrypted_fields():
        yield field.key, rotate_field(field, batch=batch, dry_run=dry_run)


__all__ = ["Command", "DecryptionError", "key_id_of"]
