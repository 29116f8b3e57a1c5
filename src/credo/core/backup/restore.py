"""``restore_backup``: verify a backup directory, refuse a busy target, load the database and the
documents, then run the checks (:mod:`credo.core.backup.checks`) and audit the restore."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction

from credo.core.backup.checks import RESTORE_CHECKS
from credo.core.backup.common import (
    FILE_MODE,
    ROOT_SETTINGS,
    BackupError,
    audit_backup_event,
    credo_version,
    vendor_label,
)
from credo.core.backup.dbtools import find_pg_tool, run_tool, server_major
from credo.core.backup.files import copy_hashed, document_roots, has_files, secret_paths
from credo.core.backup.manifest import read_manifest, verify_files
from credo.core.backup.registry import IntegrityResult, integrity_checks
from credo.core.backup.report import RestoreReport


def _pg_user_tables(cursor: Any) -> int:
    cursor.execute(
        "SELECT COUNT(*) FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
        "AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
    )
    return int(cursor.fetchone()[0])


def _pg_other_sessions(cursor: Any) -> int:
    cursor.execute(
        "SELECT COUNT(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    return int(cursor.fetchone()[0])


def _sqlite_target() -> Path:
    name = str(connection.settings_dict.get("NAME") or "")
    if name in ("", ":memory:") or name.startswith("file::memory:"):
        raise BackupError(
            "DATABASE_URL 指向内存数据库：恢复需要一个 SQLite 文件或 PostgreSQL 数据库。"
        )
    return Path(name)


def _target_tables() -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            return _pg_user_tables(cursor)
    path = _sqlite_target()
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        return int(cursor.fetchone()[0])


def _load_postgresql(source: Path, manifest: dict[str, Any], *, force: bool) -> None:
    with connection.cursor() as cursor:
        major, _text = server_major(cursor)
        if force and _pg_user_tables(cursor):
            # Everything Credo owns lives in the public schema: replace it as a whole, so no
            # table of a newer or older schema survives next to the restored ones.
            cursor.execute("DROP SCHEMA IF EXISTS public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    connection.close()
    tool = find_pg_tool("pg_restore", major)
    run_tool(
        [
            str(tool),
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={connection.settings_dict['NAME']}",
            str(source / manifest["database"]["file"]),
        ],
        "pg_restore",
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics: pg_restore leaves the tables unanalysed


def _load_sqlite(source: Path, manifest: dict[str, Any]) -> None:
    target = _sqlite_target()
    connection.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source / manifest['database']['file']}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        src.backup(dest)  # replaces the whole target database
    finally:
        dest.close()
        src.close()
    with contextlib.suppress(OSError):
        os.chmod(target, FILE_MODE)


def _restore_documents(source: Path, manifest: dict[str, Any]) -> tuple[int, int, list[str]]:
    roots = document_roots()
    secrets = secret_paths()
    count = size_total = 0
    problems: list[str] = []
    for entry in manifest.get("files", []):
        rel = str(entry["path"])
        top, _sep, inner = rel.partition("/")
        if top not in roots or not inner:
            continue
        dest = roots[top] / inner
        if dest.resolve() in secrets:
            problems.append(f"{rel}: 目标是密钥/机密文件，已跳过")
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(f".{dest.name}.restore-{os.getpid()}")
        part.unlink(missing_ok=True)
        digest, size = copy_hashed(source / rel, part, mode=None)
        if digest != entry["sha256"]:
            part.unlink(missing_ok=True)
            problems.append(f"{rel}: 复制时 SHA-256 不符（备份在校验后被修改）")
            continue
        os.replace(part, dest)
        count += 1
        size_total += size
    return count, size_total, problems


def restore_backup(source: Path | str, *, force: bool = False, actor: Any = None) -> RestoreReport:
    """Verify, then restore ``source`` into the database of DATABASE_URL and the document roots."""
    started = time.monotonic()
    source = Path(source).absolute()
    report = RestoreReport(source=str(source), vendor=connection.vendor)
    try:
        _restore(report, source, force=force, actor=actor)
    except BackupError as exc:
        report.add("error", False, str(exc))
    except DatabaseError as exc:
        report.add("error", False, f"数据库错误（检查 DATABASE_URL 和数据库是否可用）：{exc}")
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _restore(report: RestoreReport, source: Path, *, force: bool, actor: Any) -> None:
    manifest = read_manifest(source)
    problems = verify_files(source, manifest)
    if problems:
        report.add("checksums", False, "备份校验失败，未恢复任何内容", problems)
        return
    report.add("checksums", True, f"{len(manifest['files'])} 个文件的 SHA-256 校验通过")

    vendor = str(manifest["database"]["vendor"])
    if vendor != connection.vendor:
        report.add(
            "vendor",
            False,
            f"数据库类型不一致：备份来自 {vendor_label(vendor)}，目标（DATABASE_URL）是 "
            f"{vendor_label(connection.vendor)}。只能恢复到同类数据库，未恢复任何内容。",
        )
        return
    if manifest.get("credo_version") != credo_version():
        report.add(
            "version",
            True,
            f"备份由 Credo {manifest.get('credo_version')} 生成，本程序是 {credo_version()}",
            warning=True,
        )

    tables = _target_tables()
    if tables and not force:
        report.add(
            "target",
            False,
            f"目标数据库不为空（已有 {tables} 个表、视图或序列）：未恢复任何内容。"
            "确认要覆盖它时加 --force。",
        )
        return
    if tables and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            others = _pg_other_sessions(cursor)
        if others:
            report.add(
                "target",
                False,
                f"目标数据库还有 {others} 个其他连接：请先停止 web、worker 和 scheduler "
                "再恢复（--force 会替换整个数据库）。未恢复任何内容。",
            )
            return
    busy = [
        f"{ROOT_SETTINGS[name]}={root}"
        for name, root in document_roots().items()
        if has_files(root)
    ]
    if busy and not force:
        report.add(
            "documents_target",
            False,
            "文档目录不为空：未恢复任何内容。确认要用备份中的文件覆盖同名文件时加 --force。",
            busy,
        )
        return
    report.add(
        "target",
        True,
        "目标为空" if not tables and not busy else "目标不为空，按 --force 覆盖",
        busy,
        warning=bool(tables or busy),
    )

    # --force on PostgreSQL drops the old schema before loading: from here on it is changed.
    report.restored = bool(tables) and connection.vendor == "postgresql"
    if connection.vendor == "postgresql":
        _load_postgresql(source, manifest, force=force)
    else:
        _load_sqlite(source, manifest)
    report.restored = True
    report.add("database", True, f"数据库已从 {manifest['database']['file']} 恢复")
    count, size, copy_problems = _restore_documents(source, manifest)
    report.add(
        "documents",
        not copy_problems,
        f"已恢复 {count} 个文件（{size} 字节）",
        copy_problems,
    )
    for name, step in RESTORE_CHECKS:
        try:
            step(report, manifest)
        except Exception as exc:  # noqa: BLE001 — reported, the other checks still run
            report.add(name, False, f"检查出错：{exc!r}")
    for check in integrity_checks():
        try:
            result = check.run()
        except Exception as exc:  # noqa: BLE001 — reported, the restore goes on
            result = IntegrityResult(False, f"{check.label}检查出错：{exc!r}")
        report.add(check.key, result.ok, result.message, result.details)
    try:
        with transaction.atomic():
            audit_backup_event(
                "core.restore",
                actor=actor,
                path=source,
                metadata={
                    "ok": report.ok,
                    "backup_created_at": manifest.get("created_at"),
                    "backup_credo_version": manifest.get("credo_version"),
                    "migrated": report.migrated,
                    "failed_steps": [s.name for s in report.steps if not s.ok],
                },
            )
    except Exception as exc:  # noqa: BLE001
        report.add("audit_record", False, f"无法记录审计日志 core.restore：{exc!r}")
