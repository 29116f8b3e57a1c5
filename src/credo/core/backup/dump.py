"""``create_backup``: the database dump (``pg_dump`` of one exported snapshot, or SQLite's online
backup API), the stored documents copied after it, and the manifest written last."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from credo.core.backup.common import (
    DIR_MODE,
    FILE_MODE,
    FORMAT,
    FORMAT_VERSION,
    KEYS_NOTE,
    MEDIA_EXCLUDED_DIRS,
    ORDER_NOTE,
    PG_DUMP_FILE,
    ROOT_SETTINGS,
    SQLITE_FILE,
    BackupError,
    audit_backup_event,
    credo_version,
)
from credo.core.backup.dbtools import (
    applied_migrations,
    count_rows,
    find_pg_tool,
    run_tool,
    server_major,
    sqlite_state,
    table_names,
    tool_major,
)
from credo.core.backup.files import (
    copy_hashed,
    document_roots,
    fsync_dir,
    secret_paths,
    sha256_of,
    walk_root,
)
from credo.core.backup.manifest import write_manifest
from credo.core.backup.registry import iter_file_references


@dataclass
class BackupResult:
    path: str
    vendor: str
    tables: int
    rows: int
    documents: int
    document_bytes: int
    database_bytes: int
    missing_documents: int
    seconds: float
    manifest: dict[str, Any] = field(repr=False, default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("manifest")
        return data


def _prepare_target(target: Path) -> Path:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"备份目录 {target} 已存在且不为空：请指定一个新的（或空的）目录。")
    tmp = target.with_name(target.name + ".tmp")
    if tmp.exists():
        raise BackupError(
            f"临时目录 {tmp} 已存在（上次备份未完成或正在进行）：确认没有备份在运行后删除它再试。"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(mode=DIR_MODE)
    return tmp


def _dump_postgresql(tmp: Path) -> dict[str, Any]:
    connection.ensure_connection()
    with transaction.atomic(), connection.cursor() as cursor:
        # One snapshot for the dump, the row counts, the migrations and the file references.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # This session idles while pg_dump works: a role's idle-in-transaction timeout
        # (docs/deployment.md recommends one for the workers) must not end the snapshot.
        cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
        cursor.execute("SET LOCAL statement_timeout = 0")
        major, version = server_major(cursor)
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = str(cursor.fetchone()[0])
        tool = find_pg_tool("pg_dump", major)
        counts = count_rows(cursor, table_names(cursor), connection.ops.quote_name)
        migrations = applied_migrations(cursor)
        refs = list(iter_file_references())
        run_tool(
            [
                str(tool),
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-password",
                f"--file={tmp / PG_DUMP_FILE}",
            ],
            "pg_dump",
        )
    return {
        "file": PG_DUMP_FILE,
        "server_version": version,
        "tool": f"pg_dump {tool_major(tool)} ({tool})",
        "counts": counts,
        "migrations": migrations,
        "refs": refs,
    }


def _dump_sqlite(tmp: Path) -> dict[str, Any]:
    connection.ensure_connection()
    source = connection.connection
    dest_path = tmp / SQLITE_FILE
    fd = os.open(dest_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.close(fd)
    dest = sqlite3.connect(dest_path)
    try:
        source.backup(dest)  # the online backup API: a consistent copy while others write
    finally:
        dest.close()
    counts, migrations = sqlite_state(dest_path)
    return {
        "file": SQLITE_FILE,
        "server_version": sqlite3.sqlite_version,
        "tool": "sqlite3 online backup API",
        "counts": counts,
        "migrations": migrations,
        "refs": list(iter_file_references()),
    }


def create_backup(target: Path | str, *, actor: Any = None) -> BackupResult:
    """Write a complete backup into the new directory ``target`` (see the module docstring)."""
    from credo.core.crypto import keyring

    started = time.monotonic()
    target = Path(target).absolute()
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"不支持的数据库类型：{vendor}（只支持 PostgreSQL 和 SQLite）。")
    tmp = _prepare_target(target)
    renamed = False
    try:
        db = _dump_postgresql(tmp) if vendor == "postgresql" else _dump_sqlite(tmp)
        db_sha, db_size = sha256_of(tmp / db["file"])
        os.chmod(tmp / db["file"], FILE_MODE)
        files: list[dict[str, Any]] = [{"path": db["file"], "sha256": db_sha, "size": db_size}]
        roots = document_roots()
        secrets = secret_paths()
        copied: set[tuple[str, str]] = set()
        skipped_secret: list[str] = []
        doc_bytes = 0
        for root_name, root in roots.items():
            for rel, path in walk_root(root_name, root, roots.values()):
                if path.resolve() in secrets:
                    skipped_secret.append(f"{root_name}/{rel}")
                    continue
                dest = tmp / root_name / rel
                dest.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
                try:
                    digest, size = copy_hashed(path, dest)
                except FileNotFoundError:
                    continue  # deleted while we copied: the dump decides whether it mattered
                files.append({"path": f"{root_name}/{rel}", "sha256": digest, "size": size})
                copied.add((root_name, rel))
                doc_bytes += size
        missing = [
            f"{label}: {root_name}/{rel}"
            for root_name, rel, label in db["refs"]
            if (root_name, rel) not in copied
        ]
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "credo_version": credo_version(),
            "created_at": timezone.now().isoformat(),
            "database": {
                "vendor": vendor,
                "file": db["file"],
                "server_version": db["server_version"],
                "tool": db["tool"],
            },
            "migrations": db["migrations"],
            "row_counts": db["counts"],
            "documents": {
                "roots": {name: ROOT_SETTINGS[name] for name in roots},
                "excluded": [f"media/{d}/（导入临时文件）" for d in MEDIA_EXCLUDED_DIRS]
                + skipped_secret,
                "count": len(copied),
                "bytes": doc_bytes,
                "missing_at_backup": missing,
            },
            "keys": {
                "included": False,
                "encryption_key_ids": list(keyring().keys),
                "note": KEYS_NOTE,
            },
            "order": ORDER_NOTE,
            "files": files,
        }
        # The manifest last: a directory with a manifest is a complete backup.
        write_manifest(tmp, manifest)
        fsync_dir(tmp)
        result = BackupResult(
            path=str(target),
            vendor=vendor,
            tables=len(db["counts"]),
            rows=sum(db["counts"].values()),
            documents=len(copied),
            document_bytes=doc_bytes,
            database_bytes=db_size,
            missing_documents=len(missing),
            seconds=round(time.monotonic() - started, 3),
            manifest=manifest,
        )
        # Audited and renamed together: no audit row without a backup, no backup unaudited.
        with transaction.atomic():
            audit_backup_event(
                "core.backup",
                actor=actor,
                path=target,
                metadata={
                    **result.as_dict(),
                    "database_sha256": db_sha,
                    "created_at": manifest["created_at"],
                },
            )
            os.replace(tmp, target)  # onto a missing or empty directory
            renamed = True
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(target if renamed else tmp, ignore_errors=True)
        raise
    return result
