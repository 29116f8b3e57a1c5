"""Constants, the operator-facing error and small helpers shared by backup and restore."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FORMAT = "credo-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PG_DUMP_FILE = "database.dump"
SQLITE_FILE = "database.sqlite3"
DIR_MODE = 0o700
FILE_MODE = 0o600
CHUNK = 1024 * 1024
# Short-lived personal-data uploads of imports (core.uploads): deleted within a day anyway.
MEDIA_EXCLUDED_DIRS = ("imports",)
# Where the documents of a backup go back to (top folder in the backup → setting).
ROOT_SETTINGS = {"documents": "CREDO_DOCUMENT_ROOT", "media": "MEDIA_ROOT"}
KEYS_NOTE = (
    "本备份不含任何密钥：CREDO_SECRET_KEY、CREDO_ENCRYPTION_KEYS、CREDO_BLIND_INDEX_KEY、"
    "CREDO_AUDIT_ANCHOR_KEY（及其 *_FILE 文件）和审计锚点文件须另行备份、分开保管。"
    "恢复时必须配置备份时使用的同一组密钥，否则加密字段无法解密、审计链校验失败。"
)
ORDER_NOTE = (
    "先导出数据库（一致性快照），再复制文件：文件可能比数据库新（没有数据库记录的文件无害）；"
    "恢复时报告有数据库记录但缺少文件的文档。"
)


class BackupError(Exception):
    """A refusal or failure with a message for the operator (Chinese)."""


def credo_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("credo")
    except PackageNotFoundError:
        return "unknown"


def vendor_label(vendor: str) -> str:
    return {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(vendor, vendor)


def audit_backup_event(action: str, *, actor: Any, path: Path, metadata: dict[str, Any]) -> None:
    """The audit row of a backup or a restore (``core.backup`` / ``core.restore``) of ``path``."""
    from credo.core.audit.services import audit_record

    audit_record(
        action=action,
        actor=actor,
        object_type="core.backup",
        object_id=path.name,
        object_repr=str(path)[:200],
        metadata=metadata,
    )
