"""The document roots on disk: where they are, which files are secrets (never copied), walking,
hashing and fsynced copying."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings

from credo.core.backup.common import CHUNK, FILE_MODE, MEDIA_EXCLUDED_DIRS


def document_roots() -> dict[str, Path]:
    configured = getattr(settings, "CREDO_DOCUMENT_ROOT", None)
    documents = Path(configured) if configured else Path(settings.DATA_DIR) / "documents"
    return {"documents": documents.resolve(), "media": Path(settings.MEDIA_ROOT).resolve()}


def secret_paths() -> set[Path]:
    """Files that hold key material or secrets: never copied into (or out of) a backup."""
    paths: set[Path] = set()
    for name, value in os.environ.items():
        if name.endswith("_FILE") and value and "/" in value:
            paths.add(Path(value).resolve())
    anchor = str(getattr(settings, "AUDIT_ANCHOR_FILE", "") or "")
    if anchor and anchor.lower() != "off":
        paths.add(Path(anchor).resolve())
    data_dir = Path(settings.DATA_DIR).resolve()
    paths.add(data_dir / "demo-credentials.json")
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3") and str(db.get("NAME", "")) not in ("", ":memory:"):
        base = Path(str(db["NAME"])).resolve()
        paths.update({base, Path(f"{base}-wal"), Path(f"{base}-shm"), Path(f"{base}-journal")})
    return paths


def walk_root(root_name: str, root: Path, others: Iterable[Path]) -> Iterator[tuple[str, Path]]:
    """(relative posix path, absolute path) of every regular file under ``root``, sorted;
    symlinks are not followed, nested other roots and excluded folders are skipped."""
    if not root.is_dir():
        return
    nested = [o for o in others if o != root and root in o.parents]
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        keep = []
        for d in dirnames:
            sub = here / d
            if sub in nested or sub.is_symlink():
                continue
            if here == root and root_name == "media" and d in MEDIA_EXCLUDED_DIRS:
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in filenames:
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            found.append((path.relative_to(root).as_posix(), path))
    yield from sorted(found)


def has_files(root: Path) -> bool:
    if not root.is_dir():
        return False
    return any(files for _d, _s, files in os.walk(root))


def sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def copy_hashed(src: Path, dst: Path, *, mode: int | None = FILE_MODE) -> tuple[str, int]:
    """Copy ``src`` to a new file ``dst`` (fsynced), hashing what is written."""
    digest = hashlib.sha256()
    size = 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    fd = os.open(dst, flags, mode if mode is not None else 0o666)
    with src.open("rb") as fi, os.fdopen(fd, "wb") as fo:
        while chunk := fi.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            fo.write(chunk)
        fo.flush()
        os.fsync(fo.fileno())
    return digest.hexdigest(), size


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
