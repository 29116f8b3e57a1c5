"""Key rotation, key-usage statistics and key checks over every EncryptedTextField."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from credo.core.crypto import DecryptionError, decrypt, encrypt, key_id_of, keyring


@dataclass
class RotateResult:
    rotated: int = 0
    unchanged: int = 0
    failed: list[Any] = field(default_factory=list)


def stored_key_ids() -> dict[str, Counter[str]]:
    from django.db import connection

    from credo.core.fields import encrypted_fields

    result: dict[str, Counter[str]] = {}
    for f in encrypted_fields():
        table = connection.ops.quote_name(f.model._meta.db_table)
        column = connection.ops.quote_name(str(f.column))
        counts: Counter[str] = Counter()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table} WHERE {column} <> ''")  # noqa: S608
            for (raw,) in cursor.fetchall():
                counts[key_id_of(raw) or "?"] += 1
        result[f.key] = counts
    return result


def rotate_field(f: Any, *, batch: int = 500, dry_run: bool = False) -> RotateResult:
    """Re-encrypt every value of one field not already under the primary key.

    Works on raw column values with SQL so no model ``save()`` side effects (timestamps,
    signals) fire; each batch commits in its own transaction and rows are locked while
    rewritten, so rotation can run while the application is up and can be re-run safely.
    """
    from django.db import connection

    ring = keyring()
    model = f.model
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(f.column)
    pk_col = connection.ops.quote_name(model._meta.pk.column)
    result = RotateResult()
    last_pk: Any = None
    while True:
        with transaction.atomic():
            sql = f"SELECT {pk_col}, {column} FROM {table} WHERE {column} <> ''"  # noqa: S608
            params: list[Any] = []
            if last_pk is not None:
                sql += f" AND {pk_col} > %s"
                params.append(last_pk)
            sql += f" ORDER BY {pk_col} LIMIT {int(batch)}"
            if connection.features.has_select_for_update:
                sql += " FOR UPDATE"
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
                if not rows:
                    break
                for pk, raw in rows:
                    last_pk = pk
                    if raw is None:
                        continue
                    if key_id_of(raw) == ring.primary:
                        result.unchanged += 1
                        continue
                    try:
                        clear = decrypt(raw, aad=f.aad, ring=ring)
                    except DecryptionError:
                        result.failed.append(pk)
                        continue
                    result.rotated += 1
                    if not dry_run:
                        cursor.execute(
                            f"UPDATE {table} SET {column} = %s WHERE {pk_col} = %s",  # noqa: S608
                            [encrypt(clear, aad=f.aad, ring=ring), pk],
                        )
    return result


@dataclass
class KeyProbe:
    """Sampled stored values under one key id and which of them did not decrypt."""

    kid: str
    configured: bool
    tried: int = 0
    failed: list[str] = field(default_factory=list)  # "app.model.field pk=…"

    @property
    def ok(self) -> bool:
        return self.configured and not self.failed


def probe_stored_keys(
    counts: dict[str, Counter[str]] | None = None, *, sample: int = 5
) -> dict[str, KeyProbe]:
    """Decrypt up to ``sample`` stored values per field and key id with the configured keys.

    A well-formed key that is not the one the data was written with (a typo'd or regenerated
    ``kid:…`` entry) parses fine at start-up; only decrypting real ciphertexts shows it.
    """
    from django.db import connection

    from credo.core.fields import encrypted_fields

    ring = keyring()
    counts = stored_key_ids() if counts is None else counts
    probes: dict[str, KeyProbe] = {}
    for f in encrypted_fields():
        table = connection.ops.quote_name(f.model._meta.db_table)
        column = connection.ops.quote_name(str(f.column))
        pk_col = connection.ops.quote_name(str(f.model._meta.pk.column))
        for kid in sorted(counts.get(f.key, {})):
            if kid == "?":
                continue  # not a Credo ciphertext at all: reported by the counts
            probe = probes.setdefault(kid, KeyProbe(kid=kid, configured=kid in ring.keys))
            prefix = f"v1:{kid}:"
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {pk_col}, {column} FROM {table} "  # noqa: S608
                    f"WHERE substr({column}, 1, %s) = %s ORDER BY {pk_col} LIMIT %s",
                    [len(prefix), prefix, int(sample)],
                )
                rows = cursor.fetchall()
            for pk, raw in rows:
                probe.tried += 1
                try:
                    decrypt(raw, aad=f.aad, ring=ring)
                except DecryptionError:
                    probe.failed.append(f"{f.key} pk={pk}")
    return probes
