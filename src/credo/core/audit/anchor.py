"""Keyed checkpoints ("anchors") of the audit chain tail, so deleting the newest rows is detected.

The hash chain alone cannot notice a truncated tail: delete the last N rows, move
``AuditChainHead`` back, and every remaining row still links. Checkpoints cover sealed rows
only (``seq`` assigned by the sealer); unsealed rows have no chain position yet. A checkpoint records the tail
(``seq``, row ``hash``, row ``count``) with ``mac = HMAC-SHA256(anchor key, payload)``. The
anchor key is derived with HKDF from ``CREDO_AUDIT_ANCHOR_KEY`` (or, when unset, the secret key)
and never stored in the database, so a checkpoint cannot be forged with SQL alone.

Because someone with database access could simply delete the checkpoint rows as well, every
checkpoint is also appended, one JSON line, to the anchor file (``CREDO_AUDIT_ANCHOR_FILE``:
opened ``O_APPEND``, mode 0600; make it append-only with ``chattr +a`` in production) and, with
``CREDO_AUDIT_ANCHOR_SYSLOG``, sent to syslog. ``credo audit verify`` checks the chain against
every checkpoint it can find: a chain ending before an anchored row, or with a different hash
at an anchored ``seq``, is truncation; a checkpoint whose MAC does not verify is reported too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from credo.core.audit.models import AuditCheckpoint, AuditEntry

VERSION = 1
FILE_MODE = 0o600


def anchor_key() -> bytes:
    material = getattr(settings, "AUDIT_ANCHOR_KEY", "") or settings.SECRET_KEY
    return HKDF(
        algorithm=SHA256(), length=32, salt=b"credo-audit-anchor", info=b"checkpoint v1"
    ).derive(material.encode())


def anchor_file() -> Path | None:
    raw = str(getattr(settings, "AUDIT_ANCHOR_FILE", "") or "").strip()
    if not raw or raw.lower() == "off":
        return None
    return Path(raw)


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    count: int
    at: str
    source: str
    mac: str
    origin: str  # where it was read: "file /var/credo/audit-anchors.log line 3", "database …"

    def payload(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "seq": self.seq,
            "hash": self.hash,
            "count": self.count,
            "at": self.at,
            "source": self.source,
        }

    @property
    def mac_ok(self) -> bool:
        return hmac.compare_digest(sign(self.payload()), str(self.mac))


def sign(payload: dict[str, Any]) -> str:
    message = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(anchor_key(), message, hashlib.sha256).hexdigest()


def _append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: every write lands at the end, never over an earlier checkpoint.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        if (os.fstat(fd).st_mode & 0o777) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _syslog(line: str) -> None:
    import syslog

    syslog.openlog("credo-audit", 0, syslog.LOG_AUTH)
    syslog.syslog(syslog.LOG_NOTICE, f"audit checkpoint {line}")


def write_checkpoint(*, seq: int, row_hash: str, count: int, source: str) -> AuditCheckpoint:
    """Record one checkpoint in the database; the external copies follow on commit (a
    checkpoint of rows that are then rolled back would read as truncation later)."""
    at = timezone.now()
    payload = {
        "v": VERSION,
        "seq": seq,
        "hash": row_hash,
        "count": count,
        "at": at.isoformat(),
        "source": source,
    }
    mac = sign(payload)
    checkpoint = AuditCheckpoint.objects.create(
        created_at=at, seq=seq, hash=row_hash, count=count, source=source, mac=mac
    )
    line = json.dumps({**payload, "mac": mac}, sort_keys=True, separators=(",", ":"))

    def external() -> None:
        path = anchor_file()
        if path is not None:
            _append_line(path, line)
        if getattr(settings, "AUDIT_ANCHOR_SYSLOG", False):
            _syslog(line)

    transaction.on_commit(external)
    return checkpoint


def checkpoint_tail(*, source: str = "schedule") -> AuditCheckpoint | None:
    """Anchor the current tail of the sealed chain (the scheduled job). Reads only: neither
    the writers nor the sealer are held up."""
    sealed = AuditEntry.objects.filter(seq__isnull=False)
    tail = sealed.order_by("-seq").values_list("seq", "hash").first()
    if tail is None or tail[0] is None or tail[1] is None:
        return None
    return write_checkpoint(seq=tail[0], row_hash=tail[1], count=sealed.count(), source=source)


def _from_mapping(data: Any, origin: str) -> Anchor:
    return Anchor(
        seq=int(data["seq"]),
        hash=str(data["hash"]),
        count=int(data["count"]),
        at=str(data["at"]),
        source=str(data["source"]),
        mac=str(data["mac"]),
        origin=origin,
    )


def collect_anchors() -> tuple[list[Anchor], list[str]]:
    """Every checkpoint from the database and the anchor file, plus problems reading them."""
    anchors: list[Anchor] = []
    problems: list[str] = []
    db_count = 0
    for cp in AuditCheckpoint.objects.order_by("id").iterator():
        db_count += 1
        anchors.append(
            Anchor(
                seq=cp.seq,
                hash=cp.hash,
                count=cp.count,
                at=cp.created_at.isoformat(),
                source=cp.source,
                mac=cp.mac,
                origin=f"database checkpoint id={cp.pk}",
            )
        )
    path = anchor_file()
    if path is not None:
        if path.exists():
            with path.open(encoding="utf-8", errors="replace") as fh:
                for number, text in enumerate(fh, start=1):
                    if not text.strip():
                        continue
                    origin = f"anchor file {path} line {number}"
                    try:
                        anchors.append(_from_mapping(json.loads(text), origin))
                    except (ValueError, KeyError, TypeError):
                        problems.append(f"{origin}: 无法解析的检查点 (unreadable checkpoint)")
        elif db_count:
            problems.append(
                f"锚点文件 {path} 不存在，但数据库中有 {db_count} 个检查点 "
                f"(anchor file missing: deleted or moved)"
            )
    return anchors, problems
