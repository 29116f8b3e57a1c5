"""Private, short-lived files of imports (uploaded spreadsheets, import previews).

They hold personal data (names, phones, ID numbers) in clear or encrypted form, so they live
under ``MEDIA_ROOT/imports`` (never served), in a 0700 directory, as 0600 files with generated
names; the import deletes its file when done and the hourly purge task deletes anything older
than ``CREDO_IMPORT_FILE_TTL_HOURS`` (abandoned previews and uploads).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

DIR_MODE = 0o700
FILE_MODE = 0o600
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")


def import_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if (path.stat().st_mode & 0o777) != DIR_MODE:
        path.chmod(DIR_MODE)
    return path


def private_path(name: str) -> Path | None:
    """The path of a stored file by its generated name; None for a name that is not one."""
    if not _NAME_RE.match(name or "") or ".." in name:
        return None
    return import_dir() / name


def write_private(name: str, chunks: Iterable[bytes]) -> Path:
    """Create ``name`` (must not exist) readable by the Credo user only."""
    path = private_path(name)
    if path is None:
        raise ValueError(f"invalid private file name {name!r}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # whatever the umask
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            for chunk in chunks:
                fh.write(chunk)
    except BaseException:
        if fd != -1:
            os.close(fd)
        path.unlink(missing_ok=True)
        raise
    return path


def ttl() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "IMPORT_FILE_TTL_HOURS", 24)))


def is_expired(path: Path, *, now: float | None = None) -> bool:
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return True
    return age > ttl().total_seconds()


def discard(name: str) -> None:
    path = private_path(name)
    if path is not None:
        path.unlink(missing_ok=True)


def purge_expired(*, now: float | None = None) -> int:
    """Delete stored import files older than the TTL; returns how many were deleted."""
    removed = 0
    for path in import_dir().iterdir():
        if path.is_file() and is_expired(path, now=now):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
