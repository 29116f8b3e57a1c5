"""``manifest.json``: writing it (last, fsynced) and reading and verifying a backup directory
against it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from credo.core.backup.common import (
    FILE_MODE,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ROOT_SETTINGS,
    BackupError,
)
from credo.core.backup.files import sha256_of


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """A new ``manifest.json`` in ``directory``, fsynced (the directory entry is not)."""
    fd = os.open(directory / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not source.is_dir():
        raise BackupError(f"备份目录 {source} 不存在。")
    if not path.is_file():
        raise BackupError(f"{source} 中没有 {MANIFEST}：不是完整的 Credo 备份（备份可能未完成）。")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{MANIFEST} 无法读取：{exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST} 不是 Credo 备份清单。")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise BackupError(
            f"备份格式版本 {manifest.get('format_version')} 比本程序支持的 {FORMAT_VERSION} 新："
            "请用较新的 Credo 恢复。"
        )
    return manifest


def _safe_rel(rel: str) -> bool:
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts


def verify_files(source: Path, manifest: dict[str, Any]) -> list[str]:
    """Every listed file exists with its size and SHA-256, and nothing unlisted is present."""
    problems: list[str] = []
    listed: set[str] = set()
    db_file = str(manifest.get("database", {}).get("file", ""))
    for entry in manifest.get("files", []):
        rel = str(entry.get("path", ""))
        top = rel.split("/", 1)[0]
        if not _safe_rel(rel) or (rel != db_file and top not in ROOT_SETTINGS):
            problems.append(f"清单中的路径不合法：{rel!r}")
            continue
        listed.add(rel)
        path = source / rel
        if not path.is_file():
            problems.append(f"缺少文件：{rel}")
            continue
        digest, size = sha256_of(path)
        if size != entry.get("size"):
            problems.append(f"大小不符：{rel}（清单 {entry.get('size')} 字节，实际 {size} 字节）")
        elif digest != entry.get("sha256"):
            problems.append(f"SHA-256 不符（文件被修改或损坏）：{rel}")
    if db_file not in listed:
        problems.append("清单中没有数据库文件。")
    for dirpath, _dirs, names in os.walk(source):
        for name in names:
            rel = (Path(dirpath) / name).relative_to(source).as_posix()
            if rel != MANIFEST and rel not in listed:
                problems.append(f"清单外的文件：{rel}")
    return problems
